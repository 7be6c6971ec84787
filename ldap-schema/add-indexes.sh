#!/bin/sh
# add-indexes.sh [SUFFIX] -- adds the indexes mailgrant's searches need (equality, and
# presence for mailGrantSend, which a cold send decision asks as "mailGrantSend=*") to the
# slapd database holding SUFFIX (default: the one database with an olcSuffix), through
# cn=config as root (ldapi:/// + SASL EXTERNAL, Debian's default). Only the indexes the
# database does not have yet are added: slapd refuses a duplicate olcDbIndex value
# (error 80), and Debian's default database already has "cn,uid eq" and "member,memberUid
# eq". Safe to run again. slapd builds new indexes in the background.
set -eu
LDAP="-Q -LLL -Y EXTERNAL -H ldapi:///"
SUFFIX=${1:-}
if [ -n "$SUFFIX" ]; then
  FILTER="(olcSuffix=$SUFFIX)"
else
  FILTER="(olcSuffix=*)"
fi
# shellcheck disable=SC2086
DBS=$(ldapsearch $LDAP -b cn=config "$FILTER" dn | sed -n 's/^dn: //p')
if [ "$(printf '%s\n' "$DBS" | grep -c .)" != 1 ]; then
  echo "add-indexes.sh: found $(printf '%s\n' "$DBS" | grep -c .) databases for $FILTER; name the suffix: $0 dc=example,dc=com" >&2
  exit 2
fi
# shellcheck disable=SC2086
INDEXES=$(ldapsearch $LDAP -o ldif-wrap=no -b "$DBS" -s base olcDbIndex | sed -n 's/^olcDbIndex: //p')
# Attributes already indexed for equality (olcDbIndex: a,b,c eq[,...]), and attributes
# with any index line (slapd takes one definition per attribute: a second one, even of
# another type, is refused, so one already there is left as the site wrote it).
HAVE=$(printf '%s\n' "$INDEXES" |
  awk '{ n = split($1, a, ","); if ($2 ~ /(^|,)eq(,|$)/ || $2 == "") for (i = 1; i <= n; i++) print tolower(a[i]) }')
HAVE_ANY=$(printf '%s\n' "$INDEXES" | awk '{ n = split($1, a, ","); for (i = 1; i <= n; i++) print tolower(a[i]) }')
WANT="objectClass uid mail mailLocalAddress member uniqueMember mailGrantee mailGrantNotBefore mailGrantNotAfter cn"
WANT_PRES="mailGrantSend"
MISSING=""
for attr in $WANT; do
  lower=$(echo "$attr" | tr 'A-Z' 'a-z')
  printf '%s\n' "$HAVE" | grep -qx "$lower" || MISSING="$MISSING $attr:eq"
done
for attr in $WANT_PRES; do
  lower=$(echo "$attr" | tr 'A-Z' 'a-z')
  printf '%s\n' "$HAVE_ANY" | grep -qx "$lower" || MISSING="$MISSING $attr:pres"
done
if [ -z "$MISSING" ]; then
  echo "add-indexes.sh: $DBS already has every index mailgrant needs"
  exit 0
fi
{
  echo "dn: $DBS"
  echo "changetype: modify"
  echo "add: olcDbIndex"
  for want in $MISSING; do echo "olcDbIndex: ${want%%:*} ${want#*:}"; done
} | ldapmodify -Q -Y EXTERNAL -H ldapi:/// > /dev/null
echo "add-indexes.sh: added to $DBS:$(echo "$MISSING" | sed 's/:\([a-z]*\)/ \1/g')"
