#!/bin/sh
# baseline-site.sh -- the mail site mailgrant is added to, made from a stock Debian host
# (Debian 12 or 13: its own slapd, Dovecot and Postfix configuration, as `apt install`
# leaves it).
# It is what README "Deploying: before you start" expects a site to have; the deployment
# test runs it first, then the README's own steps. It changes only what such a site
# typically changed itself:
#   LDAP      people (inetOrgPerson, mail = login, userPassword) and a group, under
#             dc=example,dc=com; a team mailbox entry (support@) without a password
#   Dovecot   LDAP passdb + userdb (home, uid and gid for every user), maildir, "/" as the
#             inbox namespace separator, LMTP and SASL listeners for Postfix, logs to a file
#   Postfix   example.com as a virtual mailbox domain delivered to Dovecot over LMTP,
#             logs to a file
# Runs as root inside the test's root (no systemd: Debian's init scripts start things).
set -eux
ADMIN="-x -H ldap://127.0.0.1 -D cn=admin,dc=example,dc=com -w admin-secret"

# ---- LDAP: the site's people ----
/etc/init.d/slapd start
for i in $(seq 1 50); do ldapsearch -x -H ldap://127.0.0.1 -b dc=example,dc=com -s base dn >/dev/null 2>&1 && break; sleep 0.2; done
ldapadd $ADMIN <<'LDIF'
dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=com
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: alice
cn: Alice Smith
sn: Smith
mail: alice@example.com
userPassword: alice-pw

dn: uid=bob,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: bob
cn: Bob Jones
sn: Jones
mail: bob@example.com
userPassword: bob-pw

dn: uid=carol,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: carol
cn: Carol White
sn: White
mail: carol@example.com
userPassword: carol-pw

dn: uid=dan,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: dan
cn: Dan Brown
sn: Brown
mail: dan@example.com
userPassword: dan-pw

dn: uid=support,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: support
cn: Support
sn: Support
mail: support@example.com

dn: cn=support-team,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: support-team
member: uid=bob,ou=people,dc=example,dc=com
member: uid=carol,ou=people,dc=example,dc=com
LDIF

# ---- Postfix: example.com delivered to Dovecot ----
# Started before Dovecot, whose LMTP and SASL listeners live in Postfix's queue directory:
# Debian 13's Postfix creates that directory (private/) when it first starts, not when
# it is installed (Debian 12's postinst made it), and a real host's postinst started it.
postconf -e "virtual_mailbox_domains = example.com" \
            "virtual_transport = lmtp:unix:private/dovecot-lmtp" \
            "mydestination = localhost" \
            "maillog_file = /var/log/postfix.log" \
            "inet_interfaces = loopback-only"
/etc/init.d/postfix start

# ---- Dovecot: LDAP users with maildir under /var/vmail ----
getent group vmail || groupadd -g 5000 vmail
getent passwd vmail || useradd -u 5000 -g vmail -d /var/vmail -m -s /usr/sbin/nologin vmail

# The same site in each release's own configuration language and conf.d layout. This is
# the one place that knows the difference (README "Deploying (Debian 13)" lists it):
#   2.3 (Debian 12)  LDAP settings in dovecot-ldap.conf.ext, which auth-ldap.conf.ext
#                    points the passdb/userdb at; mail_location = maildir:~/Maildir
#   2.4 (Debian 13)  LDAP settings inline in auth-ldap.conf.ext's named passdb ldap { } /
#                    userdb ldap { } blocks (2.4 has no dovecot-ldap.conf.ext);
#                    mail_driver/mail_path; Debian's mail_home and mail_inbox_path (made
#                    for mbox in /var/mail) go, the userdb gives home; and Debian's
#                    20-lmtp.conf strips the domain from LMTP recipients
#                    (auth_username_format = %{user | username | lower}), which LDAP
#                    users whose login is their mail address cannot have.
dovecot_site_23() {
  cat > /etc/dovecot/dovecot-ldap.conf.ext <<'CONF'
uris = ldap://127.0.0.1
base = ou=people,dc=example,dc=com
auth_bind = yes
pass_filter = (&(objectClass=inetOrgPerson)(mail=%u))
pass_attrs = mail=user
user_filter = (&(objectClass=inetOrgPerson)(mail=%u))
user_attrs = =home=/var/vmail/%d/%n, =uid=vmail, =gid=vmail
iterate_attrs = mail=user
iterate_filter = (&(objectClass=inetOrgPerson)(mail=*))
CONF
  chmod 0600 /etc/dovecot/dovecot-ldap.conf.ext
  sed -i 's|^mail_location = .*|mail_location = maildir:~/Maildir|; s|^  #separator = *$|  separator = /|' \
    /etc/dovecot/conf.d/10-mail.conf
  SITE_EXTRA=""
}
dovecot_site_24() {
  cat > /etc/dovecot/conf.d/auth-ldap.conf.ext <<'CONF'
# The site's LDAP users (Dovecot 2.4: what 2.3 kept in dovecot-ldap.conf.ext).
ldap_uris = ldap://127.0.0.1
ldap_base = ou=people,dc=example,dc=com

passdb ldap {
  # the password is checked by binding as the user's entry (2.3: auth_bind = yes)
  ldap_bind = yes
  ldap_filter = (&(objectClass=inetOrgPerson)(mail=%{user}))
  fields {
    user = %{ldap:mail}
  }
}
userdb ldap {
  ldap_filter = (&(objectClass=inetOrgPerson)(mail=%{user}))
  fields {
    home = /var/vmail/%{user | domain}/%{user | username}
    uid = vmail
    gid = vmail
  }
  ldap_iterate_filter = (&(objectClass=inetOrgPerson)(mail=*))
  ldap_iterate_fields {
    user = %{ldap:mail}
  }
}
CONF
  sed -i 's|^mail_driver = .*|mail_driver = maildir|; s|^mail_path = .*|mail_path = ~/Maildir|;
          s|^mail_home = |#mail_home = |; s|^mail_inbox_path = |#mail_inbox_path = |;
          s|^  #separator = *$|  separator = /|' \
    /etc/dovecot/conf.d/10-mail.conf
  SITE_EXTRA='protocol lmtp {
  auth_username_format = %{user | lower}
}'
}
case "$(dovecot --version)" in
  2.3.*) dovecot_site_23 ;;
  2.4.*) dovecot_site_24 ;;
  *) echo "baseline-site.sh: Dovecot $(dovecot --version) is neither 2.3 nor 2.4" >&2; exit 1 ;;
esac
sed -i 's/^!include auth-system.conf.ext/#!include auth-system.conf.ext/; s/^#!include auth-ldap.conf.ext/!include auth-ldap.conf.ext/' \
  /etc/dovecot/conf.d/10-auth.conf
cat > /etc/dovecot/conf.d/99-site.conf <<CONF
# The site's own additions: Postfix hands mail over by LMTP and asks Dovecot's auth for
# SASL; Dovecot logs to a file (no syslog daemon in the test root).
protocols = imap lmtp
log_path = /var/log/dovecot.log
service lmtp {
  unix_listener /var/spool/postfix/private/dovecot-lmtp {
    mode = 0600
    user = postfix
    group = postfix
  }
}
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
  unix_listener auth-userdb {
    mode = 0600
    user = vmail
  }
}
$SITE_EXTRA
CONF
doveconf -n > /dev/null
/etc/init.d/dovecot start
# alice already keeps a Projects folder (the first share of README step 7).
doveadm mailbox create -u alice@example.com Projects
printf 'From: alice@example.com\nSubject: Roadmap 2027\n\nThe plan.\n' | doveadm save -u alice@example.com -m Projects
