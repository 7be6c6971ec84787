// grant_edit.cpp -- see grant_edit.h.
#include "mailgrant/grant_edit.h"

#include <algorithm>

#include "mailgrant/dn.h"

namespace mailgrant {
namespace {

bool same_dn(const std::string& a, const std::string& b) {
    const std::string na = normalize_dn(a);
    return !na.empty() && na == normalize_dn(b);
}

bool lists(const std::vector<std::string>& values, const std::string& value) {
    return std::find(values.begin(), values.end(), value) != values.end();
}

std::string joined(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
    return out;
}

std::string quoted_list(const std::vector<std::string>& values) {
    std::vector<std::string> q;
    for (const auto& v : values) q.push_back("'" + v + "'");
    return joined(q);
}

GrantEdit make(GrantEdit::Action action, std::string what, std::vector<ValueChange> changes = {}) {
    GrantEdit e;
    e.action = action;
    e.what = std::move(what);
    e.changes = std::move(changes);
    return e;
}

std::string part_name(const GrantPart& part) {
    switch (part.kind) {
        case GrantPart::Kind::Folder: return (part.folders.size() > 1 ? "folders " : "folder ") + quoted_list(part.folders);
        case GrantPart::Kind::Folders: return "its folder access";
        case GrantPart::Kind::Send: return "its send rights";
        case GrantPart::Kind::Everything: break;
    }
    return "everything";
}

void delete_send(const Grant& g, const SchemaConfig& schema, std::vector<ValueChange>& ch) {
    if (g.send_as) ch.push_back({ValueChange::Op::Delete, schema.send, "sendAs"});
    if (g.send_on_behalf) ch.push_back({ValueChange::Op::Delete, schema.send, "sendOnBehalf"});
}

void delete_folders(const Grant& g, const SchemaConfig& schema, std::vector<ValueChange>& ch) {
    for (const auto& f : g.folders) ch.push_back({ValueChange::Op::Delete, schema.folder, f});
    if (!g.rights_text.empty()) ch.push_back({ValueChange::Op::Delete, schema.rights, g.rights_text});
}

}  // namespace

GrantEdit remove_part(const Grant& g, const std::vector<std::string>& grantee_dns, const GrantPart& part,
                      const SchemaConfig& schema) {
    using A = GrantEdit::Action;
    std::vector<std::string> stored;  // the mailGrantee values as written, for exact value deletes
    for (const auto& v : g.grantees)
        for (const auto& dn : grantee_dns)
            if (same_dn(v, dn) && !lists(stored, v)) stored.push_back(v);
    if (stored.empty()) return make(A::Keep, "does not name the grantee");
    const std::size_t others = g.grantees.size() - stored.size();
    const bool has_send = g.send_as || g.send_on_behalf;
    const bool has_folders = !g.folders.empty() || !g.rights_text.empty();
    std::vector<std::string> listed;  // Kind::Folder: the asked folders this grant lists
    for (const auto& f : part.folders)
        if (lists(g.folders, f) && !lists(listed, f)) listed.push_back(f);

    switch (part.kind) {
        case GrantPart::Kind::Everything: {
            if (others == 0) return make(A::Delete, "deleted");
            std::vector<ValueChange> ch;
            for (const auto& v : stored) ch.push_back({ValueChange::Op::Delete, schema.grantee, v});
            return make(A::Modify, "grantee removed (" + std::to_string(others) + " other(s) keep it)", ch);
        }
        case GrantPart::Kind::Folder:
            if (listed.empty()) return make(A::Keep, "does not list folder " + quoted_list(part.folders));
            break;
        case GrantPart::Kind::Folders:
            if (!has_folders) return make(A::Keep, "gives no folder access");
            break;
        case GrantPart::Kind::Send:
            if (!has_send) return make(A::Keep, "gives no send rights");
            break;
    }
    if (others > 0)
        return make(A::Refuse, "grant '" + g.name + "' also serves other grantees (" + std::to_string(others) +
                                   " more); taking " + part_name(part) + " out of it would take it from them too");

    std::vector<ValueChange> ch;
    switch (part.kind) {
        case GrantPart::Kind::Folder: {
            const std::string names = (listed.size() > 1 ? "folders " : "folder ") + quoted_list(listed);
            for (const auto& f : listed) ch.push_back({ValueChange::Op::Delete, schema.folder, f});
            if (g.folders.size() > listed.size()) return make(A::Modify, names + " removed", ch);
            if (!has_send) return make(A::Delete, "deleted (it gave only " + names + ")");
            if (!g.rights_text.empty()) ch.push_back({ValueChange::Op::Delete, schema.rights, g.rights_text});
            return make(A::Modify, names + " and the rights removed (send rights stay)", ch);
        }
        case GrantPart::Kind::Folders:
            if (!has_send) return make(A::Delete, "deleted (it gave only folder access)");
            delete_folders(g, schema, ch);
            return make(A::Modify, "folders " + quoted_list(g.folders) + " and the rights removed (send rights stay)", ch);
        case GrantPart::Kind::Send:
            if (g.folders.empty()) return make(A::Delete, "deleted (it gave only send rights)");
            delete_send(g, schema, ch);
            return make(A::Modify, "send rights removed (folder access stays)", ch);
        case GrantPart::Kind::Everything:
            break;
    }
    return make(A::Keep, "");
}

ExtensionPlan plan_extension(const std::vector<Grant>& grants, const GrantRequest& request,
                             const SchemaConfig& schema) {
    ExtensionPlan plan;
    // (a plain Rights and a flag, not an optional: GCC 12 warns "may be used uninitialized")
    Rights wanted;
    bool has_wanted = false;
    if (!request.rights_text.empty())
        if (const auto r = parse_rights(request.rights_text)) {
            wanted = *r;
            has_wanted = true;
        }
    std::vector<const Grant*> sorted;
    for (const auto& g : grants) sorted.push_back(&g);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Grant* a, const Grant* b) { return ascii_lower(a->name) < ascii_lower(b->name); });

    std::vector<std::string> reasons;
    const Grant* best = nullptr;
    int best_rank = 0;
    for (const Grant* g : sorted) {
        bool named = false;
        for (const auto& v : g->grantees) named = named || same_dn(v, request.grantee_dn);
        if (!named) continue;
        const std::string name = "'" + g->name + "'";
        if (g->grantees.size() > 1) {
            reasons.push_back(name + " is shared with other grantees");
            continue;
        }
        if (!g->problems.empty() || g->window_invalid) {
            reasons.push_back(name + " has problems (see mailgrant check)");
            continue;
        }
        if (g->not_before != request.not_before || g->not_after != request.not_after) {
            reasons.push_back(name + " has another validity window");
            continue;
        }
        int rank = 0;
        if (request.folders.empty()) {
            rank = (g->send_as || g->send_on_behalf) ? 0 : 1;  // send rights join send rights first
        } else if (g->folders.empty() && g->rights_text.empty()) {
            rank = 1;  // a send-only grant takes the folders and their rights
        } else if (g->rights && has_wanted && *g->rights == wanted) {
            rank = 0;
        } else {
            bool all_named = true;
            for (const auto& f : g->folders) all_named = all_named && lists(request.folders, f);
            if (!all_named) {
                reasons.push_back(name + " gives " + (g->rights ? g->rights->letters() : g->rights_text) + " on " +
                                  quoted_list(g->folders) + " (a grant has one set of rights for all its folders)");
                continue;
            }
            rank = 2;  // the request names every folder of the grant: its rights change
        }
        if (!best || rank < best_rank) {
            best = g;
            best_rank = rank;
        }
    }
    if (!best) {
        plan.why_new = joined(reasons);
        return plan;
    }

    plan.target = best;
    std::vector<ValueChange> ch;
    std::vector<std::string> what;
    std::vector<std::string> added;
    for (const auto& f : request.folders)
        if (!lists(best->folders, f) && !lists(added, f)) {
            ch.push_back({ValueChange::Op::Add, schema.folder, f});
            added.push_back(f);
        }
    if (!added.empty()) what.push_back("folder" + std::string(added.size() > 1 ? "s " : " ") + quoted_list(added) + " added");
    if (has_wanted && !(best->rights && *best->rights == wanted)) {
        if (!best->rights_text.empty()) ch.push_back({ValueChange::Op::Delete, schema.rights, best->rights_text});
        ch.push_back({ValueChange::Op::Add, schema.rights, request.rights_text});
        what.push_back(best->rights_text.empty() ? "rights '" + request.rights_text + "' added"
                                                 : "rights '" + best->rights_text + "' changed to '" +
                                                       request.rights_text + "'");
    }
    if (request.send_as && !best->send_as) {
        ch.push_back({ValueChange::Op::Add, schema.send, "sendAs"});
        what.push_back("sendAs added");
    }
    if (request.send_on_behalf && !best->send_on_behalf && !best->send_as) {
        ch.push_back({ValueChange::Op::Add, schema.send, "sendOnBehalf"});
        what.push_back("sendOnBehalf added");
    }
    plan.edit = ch.empty() ? make(GrantEdit::Action::Keep, "already gives all of it")
                           : make(GrantEdit::Action::Modify, joined(what), ch);
    return plan;
}

}  // namespace mailgrant
