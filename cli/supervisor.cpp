// supervisor.cpp -- see supervisor.h.
#include "supervisor.h"

namespace mailgrant::cli {

bool reports_to(const std::string& dn, const std::string& supervisor, const ManagerLinks& links, int max_depth) {
    if (dn.empty() || supervisor.empty() || dn == supervisor) return false;
    std::set<std::string> seen{dn};
    std::vector<std::string> frontier{dn};
    for (int depth = 1; depth <= max_depth && !frontier.empty(); ++depth) {
        std::vector<std::string> next;
        for (const auto& node : frontier) {
            auto it = links.find(node);
            if (it == links.end()) continue;
            for (const auto& manager : it->second) {
                if (manager == supervisor) return true;
                if (seen.insert(manager).second) next.push_back(manager);  // each entry once: cycles end here
            }
        }
        frontier.swap(next);
    }
    return false;
}

}  // namespace mailgrant::cli
