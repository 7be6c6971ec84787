// header_check.cpp -- see header_check.h.
#include "header_check.h"

#include "header_address.h"
#include "policy_service.h"
#include "mailgrant/dn.h"

namespace mailgrant::policy {
namespace {

HeaderVerdict reject(std::string reason) { return HeaderVerdict{HeaderVerdict::Kind::Reject, std::move(reason), "", {}}; }

// Header counts first: a second From: or Sender: is the oldest trick (clients show one,
// filters check the other), so it is refused before anything is parsed.
std::string count_problem(const MessageHeaders& h) {
    if (h.from.empty()) return "message has no From: header";
    if (h.from.size() > 1)
        return "message has " + std::to_string(h.from.size()) + " From: headers (RFC 5322 allows one)";
    if (h.sender.size() > 1)
        return "message has " + std::to_string(h.sender.size()) + " Sender: headers (RFC 5322 allows one)";
    return {};
}

// The address to put in an added Sender: the login when it is an address (the usual
// Dovecot setup: people log in with their mail address), else the account's primary one.
std::string own_address(Directory& directory, const std::string& login) {
    if (login.find('@') != std::string::npos) return login;
    const auto account = directory.find_login(login);
    return account ? account->primary_address() : std::string();
}

}  // namespace

HeaderVerdict judge_authenticated(Decider& decider, Directory& directory, const std::string& login,
                                  const MessageHeaders& headers) {
    if (auto problem = count_problem(headers); !problem.empty()) return reject(problem);
    const auto from = parse_from_header(headers.from.front());
    if (!from.ok) return reject("From: header refused: " + from.error);

    bool on_behalf = false;
    std::string behalf_of;
    std::string why;
    std::vector<SenderDecision> authors;
    for (const auto& box : from.mailboxes) {
        const SenderDecision d = decider.sender(login, box.address);
        authors.push_back(d);
        if (!d.allowed())  // the Decider's reason names the person (or the shared mailbox) behind the login
            return reject("From: address <" + box.address + "> is not owned by or delegated to user " + login + ": " +
                          d.reason);
        if (d.right == SenderRight::SendOnBehalf) {
            on_behalf = true;
            if (behalf_of.empty()) behalf_of = box.address;
        }
        if (!why.empty()) why += "; ";
        why += d.reason;
    }
    // RFC 5322 3.6.2: several authors need a Sender:, as does sending on someone's behalf.
    const bool sender_required = on_behalf || from.mailboxes.size() > 1;
    const std::string need = on_behalf ? "sending on behalf of <" + behalf_of + ">" : "several From: addresses";

    if (!headers.sender.empty()) {
        const auto sender = parse_sender_header(headers.sender.front());
        if (!sender.ok) return reject("Sender: header refused: " + sender.error);
        const std::string& address = sender.mailboxes.front().address;
        const SenderDecision d = decider.sender(login, address);
        if (sender_required && d.right != SenderRight::Own)
            return reject("Sender: <" + address + "> must be an address of user " + login + " when " + need);
        if (!d.allowed())
            return reject("Sender: address <" + address + "> is not owned by or delegated to user " + login);
        return HeaderVerdict{HeaderVerdict::Kind::Accept, why + "; Sender: " + d.reason, "", std::move(authors)};
    }
    if (!sender_required) return HeaderVerdict{HeaderVerdict::Kind::Accept, why, "", std::move(authors)};
    const std::string own = own_address(directory, login);
    if (own.empty()) return reject("no address known for user " + login + " to put in Sender: (" + need + ")");
    return HeaderVerdict{HeaderVerdict::Kind::Accept, why + "; Sender: added (" + need + ")", own, std::move(authors)};
}

HeaderVerdict judge_unauthenticated(const PolicyConfig& config, const MessageHeaders& headers) {
    const HeaderVerdict pass{HeaderVerdict::Kind::Accept, "not authenticated: left to the site's other checks", "", {}};
    if (config.unauthenticated != UnauthenticatedMode::RejectLocal) return pass;
    if (auto problem = count_problem(headers); !problem.empty()) return reject(problem);
    const auto from = parse_from_header(headers.from.front());
    if (!from.ok) return reject("From: header refused: " + from.error);
    for (const auto& box : from.mailboxes)
        if (in_local_domains(config, box.address))
            return reject("Authentication required to send as <" + box.address + ">");
    return pass;
}

std::string reply_text(const std::string& text, std::size_t max) {
    std::string out;
    for (char c : text) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) out += '?';
        else if (c == '%') out += "%%";
        else out += c;
    }
    return out;
}

}  // namespace mailgrant::policy
