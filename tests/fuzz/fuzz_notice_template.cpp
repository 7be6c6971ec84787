// Fuzz target: the notice template language and the Accept-Language choice
// (cli/notice_template.h). A template either loads and renders within the output limit
// with HTML values escaped, or is refused with a one-line TemplateError
// naming the template; the chosen language is always one offered or the fallback.
#include <string>

#include "fuzz_targets.h"
#include "notice_template.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mailgrant::cli;
    if (size == 0) return 0;
    const bool html = data[0] & 1;
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::set<std::string> available{"en", "pl", "it"};
    const std::string lang = choose_language(text, available, "en");
    if (!available.count(lang)) __builtin_trap();
    try {
        const NoticeTemplate t = NoticeTemplate::parse(text, html, "fuzz", notice_variable_names());
        TemplateVars vars{{"folders", "INBOX, <b>&\r\n"}, {"send_as", "1"}, {"until", ""}, {"owner_name", text.substr(0, 64)}};
        const std::string out = t.render(vars);
        if (out.size() > kMaxRenderedBytes) __builtin_trap();
        if (html && out.find("<b>&") != std::string::npos && text.find("<b>&") == std::string::npos) __builtin_trap();
    } catch (const TemplateError& e) {
        const std::string what = e.what();
        if (what.rfind("fuzz", 0) != 0 || what.find('\n') != std::string::npos) __builtin_trap();
    }
    return 0;
}
