// answers.cpp -- see answers.h. Each question maps onto one core decision; nothing is
// decided here beyond choosing what the caller sees (owners get no letters: their own
// rights are Dovecot's).
#include "mailgrant/answers.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "mailgrant/bad_input.h"
#include "mailgrant/caching_directory.h"
#include "mailgrant/ldap_error.h"
#include "mailgrant/ldap_session.h"
#include "mailgrant/shared_namespace.h"
#include "mailgrant/team_mailbox.h"

namespace mailgrant {

namespace {

ServiceReply ok(std::vector<std::string> values = {}) {
    ServiceReply reply;
    reply.status = ServiceReply::Status::Ok;
    reply.values = std::move(values);
    return reply;
}

}  // namespace

ServiceReply Answers::answer(const ServiceRequest& request) noexcept {
    ServiceReply reply;
    try {
        return answer_or_throw(request);
    } catch (const BadInput& e) {
        reply.status = ServiceReply::Status::BadInput;
        reply.message = std::string("bad input: ") + e.what();
    } catch (const LdapError& e) {
        reply.status = ServiceReply::Status::Temporary;
        reply.message = std::string("LDAP ") + to_string(e.kind()) + ": " + e.what();
    } catch (const std::exception& e) {
        reply.status = ServiceReply::Status::Failed;
        reply.message = std::string("internal error: ") + e.what();
    } catch (...) {
        reply.status = ServiceReply::Status::Failed;
        reply.message = "internal error";
    }
    return reply;
}

ServiceReply Answers::answer_or_throw(const ServiceRequest& request) {
    const auto& f = request.fields;
    if (f.size() != field_count(request.verb)) throw BadInput("wrong number of fields");
    switch (request.verb) {
        case ServiceVerb::Rights: {
            const auto d = decider_.folder_rights(f[0], f[1], f[2]);
            return ok({d.owner ? std::string() : d.rights.letters()});
        }
        case ServiceVerb::Owners: {
            ServiceReply reply = ok();
            for (const auto& owner : decider_.sharing_with(f[0]))
                if (!owner.owner.addresses.empty()) reply.items.push_back({owner.owner.primary_address()});
            return reply;
        }
        case ServiceVerb::Grantees: {
            ServiceReply reply = ok();
            for (const auto& grantee : decider_.grantees_of(f[0], f[1]))
                if (grantee.folder_access)
                    reply.items.push_back({grantee.is_group() ? "1" : "0", grantee.name, grantee.rights.letters()});
            return reply;
        }
        case ServiceVerb::MayOpen:
            return ok({decider_.may_open_mailbox(f[0], f[1]) ? "1" : "0"});
        case ServiceVerb::RootRights: {
            TeamMailboxes team(config_.team_mailbox, directory_, decider_);
            const TopLevelDecision d = team.top_level(f[0], f[1]);
            return ok({d.owner ? std::string() : d.root_rights.letters(), d.reason});
        }
        case ServiceVerb::TeamFolders: {
            TeamMailboxes team(config_.team_mailbox, directory_, decider_);
            const TeamFoldersDecision d = team.folders_for(f[0], f[1]);
            ServiceReply reply = ok({d.team ? "1" : "0", d.reason});
            if (d.team)
                for (const auto& folder : d.folders) reply.items.push_back({folder.name, folder.special_use});
            return reply;
        }
        case ServiceVerb::Login: {
            CollaboratorLogin login{f[0], f[1], f[2], f[3]};
            LoginVerdict verdict;
            if (auto early = collaborator_login_precheck(login)) verdict = *early;
            else verdict = collaborator_login(login, directory_, clock_, password_is_right_);
            return ok(login_values(verdict));
        }
        case ServiceVerb::Namespace:
            return namespace_of(f[0]);
        case ServiceVerb::Changed:
            return ok();  // nothing kept here beyond the caller's cache (the service clears its own)
    }
    throw BadInput("unknown question");
}

ServiceReply Answers::namespace_of(const std::string& login) {
    const auto now = clock_.steady_now();
    Expiry kept_until;
    if (auto kept = namespaces_.get(login, &kept_until)) {
        if (counts_) {
            ++counts_->reused;
            if (now >= kept_until.backstop) ++counts_->followed;
        }
        return std::move(*kept);
    }
    FreshnessScope freshness(Expiry::after(now, std::chrono::seconds(config_.cache.ttl_s),
                                           std::chrono::seconds(config_.cache.follow_ttl_s)));
    const auto generation = namespaces_.generation();  // forget() meanwhile: not remembered
    std::optional<std::time_t> changes_at;
    TeamMailboxes team(config_.team_mailbox, directory_, decider_);
    ServiceReply reply = ok();
    add_namespace_items(shared_namespace(login, directory_, decider_, team, &changes_at), reply);
    auto expires = freshness.expires();
    if (changes_at) expires.limit(clock_.steady_at(*changes_at));
    namespaces_.put_until(login, reply, expires, generation, reply_bytes(reply));
    if (counts_) ++counts_->built;
    return reply;
}

std::size_t reply_bytes(const ServiceReply& reply) {
    std::size_t bytes = sizeof reply + reply.message.capacity();
    for (const auto& item : reply.items) {
        bytes += sizeof item + item.capacity() * sizeof(std::string);
        for (const auto& field : item) bytes += field.capacity() + 1;
    }
    for (const auto& value : reply.values) bytes += sizeof value + value.capacity() + 1;
    return bytes;
}

PasswordCheck ldap_password_check(const LdapConfig& ldap) {
    return [&ldap](const std::string& dn, const std::string& password) { return password_is_right(ldap, dn, password); };
}

}  // namespace mailgrant
