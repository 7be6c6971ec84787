// mailgrant-checkpassword -- Dovecot master passdb (checkpassword protocol) for
// per-collaborator logins "MAILBOX*GRANTEE": succeeds only when GRANTEE's own password
// is right AND a valid LDAP grant gives GRANTEE folder access to MAILBOX. So a login
// without a grant is refused at LOGIN, before any mail process starts.
//
// Protocol (Dovecot's checkpassword): fd 3 carries "user\0password\0"; for a master
// login "user" is the grantee and $AUTH_LOGIN_USER the mailbox to open. On success we
// exec the reply program Dovecot appended to our arguments, with USER set; exit 1 means
// "wrong password or no grant", 111 a temporary failure (LDAP trouble: never success).
//
// Only for services that open mailboxes (imap, pop3). Over SMTP (Postfix's Dovecot SASL
// sends service=smtp, Dovecot's submission service "submission") a master login would
// reach Postfix as the MAILBOX -- Dovecot hands the target user on as the SASL user name
// -- and so let the collaborator send as the mailbox with no trace of who he is. So every
// other service is refused here, with the reason in the log; the collaborator sends
// with his own login and his own grants (sendAs / sendOnBehalf) decide. The same holds
// for SASL PLAIN with an authorization identity (authzid=MAILBOX, authcid=GRANTEE):
// Dovecot routes it through this master passdb too. $SERVICE is set by Dovecot's
// checkpassword passdb for every call; when it is missing we refuse (fail closed).
//
// The decision itself (service, empty password, account, password, grant) is the core's
// mailgrant::collaborator_login (core/include/mailgrant/collaborator_login.h), shared
// with Dovecot 2.4's passdb driver (dovecot-plugin/auth/): this program only speaks the
// checkpassword protocol and maps the verdict to exit codes and log lines. With
// service.listen set the decision is asked of mailgrant-policyd's decision service
// (service_client.h; README "One cache per host") instead of LDAP.
//
// usage (dovecot passdb args): mailgrant-checkpassword [-c CONFIG] REPLY-PROGRAM...
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mailgrant/answers.h"
#include "mailgrant/collaborator_login.h"
#include "mailgrant/config.h"
#include "mailgrant/directory.h"
#include "mailgrant/input.h"
#include "mailgrant/ldap_client.h"
#include "mailgrant/ldap_session.h"
#include "mailgrant/service_client.h"

namespace {

constexpr int kRefused = 1;
constexpr int kTemporary = 111;
constexpr std::size_t kMaxInput = 1024;

// stderr is Dovecot's log pipe when Dovecot runs us: plain lines there are logged at
// Error level. Dovecot's internal log protocol ("\001" + level + pid + " ") lets a
// success be logged as Info (level byte: Dovecot's LOG_TYPE + 1; pid 0 = none given).
// On a terminal (a person testing by hand) the plain line is printed. Refused logins
// are Info, as Dovecot's own "Login failed"; a send attempt through a master login is a
// Warning; only our own trouble (config, LDAP) is an Error.
enum class Level { Info = 2, Warning = 3, Error = 4 };

constexpr std::size_t kMaxLogLine = 4096;  // far above any line here (input is at most kMaxInput)

void log(const std::string& text, Level level = Level::Error) {
    // Names in the line come from the client: a control character (a newline followed
    // by "\001" and a level) would forge a log line of its own; excerpt() replaces them.
    const std::string line = mailgrant::excerpt(text, kMaxLogLine);
    struct stat st {};
    const bool dovecot_log_pipe = fstat(STDERR_FILENO, &st) == 0 && S_ISFIFO(st.st_mode);
    if (dovecot_log_pipe)
        std::fprintf(stderr, "\001%c0 mailgrant-checkpassword: %s\n", static_cast<char>(level), line.c_str());
    else
        std::fprintf(stderr, "mailgrant-checkpassword: %s\n", line.c_str());
}

Level level_of(mailgrant::LoginLogLevel level) {
    switch (level) {
        case mailgrant::LoginLogLevel::Info: return Level::Info;
        case mailgrant::LoginLogLevel::Warning: return Level::Warning;
        case mailgrant::LoginLogLevel::Error: break;
    }
    return Level::Error;
}

// Logs the core's verdict; the exit status Dovecot's checkpassword expects for it.
int report(const mailgrant::LoginVerdict& verdict) {
    log(verdict.message, level_of(verdict.level));
    switch (verdict.outcome) {
        case mailgrant::LoginOutcome::Allowed: return 0;
        case mailgrant::LoginOutcome::Refused: return kRefused;
        case mailgrant::LoginOutcome::Temporary: break;
    }
    return kTemporary;
}

}  // namespace

int main(int argc, char** argv) {
    std::string config_path = mailgrant::kDefaultConfigPath;
    int first_reply_arg = 1;
    if (argc > 2 && std::strcmp(argv[1], "-c") == 0) {
        config_path = argv[2];
        first_reply_arg = 3;
    }
    if (first_reply_arg >= argc) {
        log("usage: mailgrant-checkpassword [-c CONFIG] REPLY-PROGRAM (run by Dovecot's checkpassword passdb)");
        return kTemporary;
    }

    // fd 3: user \0 password \0 [timestamp \0]
    std::string input(kMaxInput, '\0');
    std::size_t used = 0;
    for (ssize_t n; used < input.size() && (n = read(3, &input[used], input.size() - used)) > 0;)
        used += static_cast<std::size_t>(n);
    input.resize(used);
    const auto end_user = input.find('\0');
    const auto end_password = end_user == std::string::npos ? std::string::npos : input.find('\0', end_user + 1);
    if (end_password == std::string::npos) {
        log("malformed input on fd 3");
        return kRefused;
    }
    const std::string grantee = input.substr(0, end_user);
    const std::string password = input.substr(end_user + 1, end_password - end_user - 1);
    const char* target_env = std::getenv("AUTH_LOGIN_USER");
    const char* service_env = std::getenv("SERVICE");
    mailgrant::CollaboratorLogin login;
    login.grantee = grantee;
    login.mailbox = target_env ? target_env : "";
    login.service = service_env ? service_env : "";  // missing: refused (fail closed)
    login.password = password;
    // The decision is the core's (collaborator_login.h); this adapter only reads Dovecot's
    // input and maps the verdict to exit codes. Refusals that need no directory come
    // before loading the configuration.
    if (const auto early = mailgrant::collaborator_login_precheck(login)) return report(*early);

    try {
        const auto config = mailgrant::load_config(config_path);
        mailgrant::LoginVerdict verdict;
        if (!config.service.listen.empty()) {
            // One cache per host: mailgrant-policyd decides (answers.h), this run opens no
            // LDAP connection. Unreachable: temporary, as with LDAP down.
            mailgrant::ServiceClient service(config.service);
            verdict = mailgrant::login_verdict(service.ask(
                {mailgrant::ServiceVerb::Login, {login.service, login.mailbox, login.grantee, login.password}}));
        } else {
            mailgrant::LdapConnection ldap(config.ldap);
            mailgrant::LdapDirectory directory(config, ldap);
            verdict = mailgrant::collaborator_login(login, directory, mailgrant::SystemClock::instance(),
                                                    mailgrant::ldap_password_check(config.ldap));
        }
        if (const int status = report(verdict); status != 0) return status;
    } catch (const mailgrant::ConfigError& e) {
        log(std::string("configuration error: ") + e.what());
        return kTemporary;
    } catch (const std::exception& e) {
        log(std::string("temporary failure: ") + e.what());
        return kTemporary;
    }
    setenv("USER", grantee.c_str(), 1);
    std::vector<char*> reply(argv + first_reply_arg, argv + argc);
    reply.push_back(nullptr);
    execv(reply[0], reply.data());
    log(std::string("cannot run the reply program ") + reply[0] + ": " + std::strerror(errno));
    return kTemporary;
}
