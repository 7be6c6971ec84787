// grant_view.cpp -- how one grant is shown in tables and JSON, the same in every verb.
#include "grant_spec.h"
#include "mailgrant/invitation.h"
#include "mailgrant/rights.h"
#include "verbs.h"

namespace mailgrant::cli {

std::string grant_rights_label(const Grant& grant) {
    if (grant.rights_text.empty()) return "-";
    if (!grant.rights) return "invalid '" + grant.rights_text + "'";
    const std::string role = role_name(*grant.rights);
    return role.empty() ? grant.rights->letters() : role + " (" + grant.rights->letters() + ")";
}

std::string grant_send_label(const Grant& grant) {
    std::vector<std::string> s;
    if (grant.send_as) s.push_back("sendAs");
    if (grant.send_on_behalf) s.push_back("sendOnBehalf");
    return s.empty() ? "-" : join(s, ", ");
}

std::string grant_window_label(const Grant& grant) {
    if (grant.window_invalid) return "invalid";
    std::string out;
    if (grant.not_before) out = "from " + format_time_human(*grant.not_before);
    if (grant.not_after) out += std::string(out.empty() ? "" : " ") + "until " + format_time_human(*grant.not_after);
    return out.empty() ? "always" : out;
}

Json grant_json(const Grant& grant, Context& ctx) {
    Json j = Json::object();
    j.set("dn", grant.dn);
    j.set("name", grant.name);
    j.set("mailbox_dn", grant.owner_dn);
    j.set("mailbox", ctx.describe(grant.owner_dn).kind == Principal::Kind::Person ? ctx.describe(grant.owner_dn).display
                                                                                  : std::string());
    Json grantees = Json::array();
    for (const auto& g : grant.grantees) {
        const Principal& p = ctx.describe(g);
        Json gj = Json::object();
        gj.set("dn", g);
        gj.set("kind", p.kind == Principal::Kind::Person  ? "person"
                       : p.kind == Principal::Kind::Group ? "group"
                       : p.kind == Principal::Kind::Other ? "other"
                                                          : "missing");
        gj.set("name", p.kind == Principal::Kind::Missing ? std::string() : p.display);
        grantees.push(gj);
    }
    j.set("grantees", grantees);
    j.set("folders", Json::strings(grant.folders));
    j.set("rights_text", grant.rights_text);
    j.set("rights", grant.rights ? Json(grant.rights->letters()) : Json());
    j.set("role", grant.rights && !role_name(*grant.rights).empty() ? Json(role_name(*grant.rights)) : Json());
    j.set("send_as", grant.send_as);
    j.set("send_on_behalf", grant.send_on_behalf);
    j.set("not_before", grant.not_before ? Json(format_time_iso(*grant.not_before)) : Json());
    j.set("not_after", grant.not_after ? Json(format_time_iso(*grant.not_after)) : Json());
    j.set("state", to_string(grant.state_at(ctx.now())));
    const Invitation invitation = invitation_of(grant, ctx.now(), ctx.config().invitations);
    if (invitation.state == InvitationState::NotPending) {
        j.set("invitation", Json());
    } else {
        Json ij = Json::object();
        ij.set("state", invitation.state == InvitationState::Open      ? "open"
                        : invitation.state == InvitationState::Expired ? "expired"
                                                                       : "age-unknown");
        ij.set("sent", invitation.sent ? Json(format_time_iso(*invitation.sent)) : Json());
        ij.set("expires", invitation.expires ? Json(format_time_iso(*invitation.expires)) : Json());
        ij.set("text", invitation.describe());
        j.set("invitation", ij);
    }
    j.set("problems", Json::strings(grant.problems));
    return j;
}

std::vector<OptionSpec> write_option_specs() {
    return {{"--ldif", false, false, ""},
            {"--bind-dn", true, false, ""},
            {"--bind-password-file", true, false, ""},
            {"--sasl-external", false, false, ""},
            {"--ldap-uri", true, true, ""}};
}

WriteCredentials write_credentials(const ParsedArgs& args, const Config& config) {
    WriteCredentials c;
    c.sasl_external = args.has("--sasl-external");
    c.uris = args.values("--ldap-uri");
    if (c.sasl_external) {
        if (args.has("--bind-dn")) throw UsageError("--sasl-external and --bind-dn exclude each other");
        return c;
    }
    if (args.has("--bind-dn")) {
        c.bind_dn = *args.value("--bind-dn");
        if (!args.has("--bind-password-file")) throw UsageError("--bind-dn needs --bind-password-file FILE");
        c.bind_password_file = *args.value("--bind-password-file");
    } else {
        if (args.has("--bind-password-file")) throw UsageError("--bind-password-file needs --bind-dn DN");
        c.bind_dn = config.ldap.bind_dn;
        c.bind_password_file = config.ldap.bind_password_file;
    }
    return c;
}

}  // namespace mailgrant::cli
