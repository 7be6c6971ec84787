#!/bin/sh
# baseline-site.sh -- the mail site mailgrant is added to, made from a stock Debian host
# (Debian's own slapd, Dovecot and Postfix configuration, as `apt install` leaves it).
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

# ---- Dovecot: LDAP users with maildir under /var/vmail ----
getent group vmail || groupadd -g 5000 vmail
getent passwd vmail || useradd -u 5000 -g vmail -d /var/vmail -m -s /usr/sbin/nologin vmail
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
sed -i 's/^!include auth-system.conf.ext/#!include auth-system.conf.ext/; s/^#!include auth-ldap.conf.ext/!include auth-ldap.conf.ext/' \
  /etc/dovecot/conf.d/10-auth.conf
sed -i 's|^mail_location = .*|mail_location = maildir:~/Maildir|; s|^  #separator = *$|  separator = /|' \
  /etc/dovecot/conf.d/10-mail.conf
cat > /etc/dovecot/conf.d/99-site.conf <<'CONF'
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
CONF
doveconf -n > /dev/null
/etc/init.d/dovecot start
# alice already keeps a Projects folder (the first share of README step 7).
doveadm mailbox create -u alice@example.com Projects
printf 'From: alice@example.com\nSubject: Roadmap 2027\n\nThe plan.\n' | doveadm save -u alice@example.com -m Projects

# ---- Postfix: example.com delivered to Dovecot ----
postconf -e "virtual_mailbox_domains = example.com" \
            "virtual_transport = lmtp:unix:private/dovecot-lmtp" \
            "mydestination = localhost" \
            "maillog_file = /var/log/postfix.log" \
            "inet_interfaces = loopback-only"
/etc/init.d/postfix start
