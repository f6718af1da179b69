#!/usr/bin/env bash
# The restore drill (docs/operations.md): build a demo installation on a scratch PostgreSQL
# database, back it up, lose it (drop the database, delete the uploaded files), restore it,
# and check that nothing is missing and that the protocol still runs on it.
#
#   PGHOST=127.0.0.1 PGUSER=postgres scripts/restore-drill.sh
#
# It touches only the scratch database casework_drill_<pid>, a role casework_drill_app_<pid>
# and a temporary folder, and removes them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER
DB="casework_drill_$$"
ROLE="casework_drill_app_$$"
WORK=$(mktemp -d)
PY=${PY:-.venv/bin/python}
export DEBUG=1 EMAIL_URL=locmem:// MEDIA_ROOT="$WORK/media"
export DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
unset CELERY_BROKER_URL

cleanup() {
    psql -d postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null || true
    psql -d postgres -qc "DROP ROLE IF EXISTS $ROLE" >/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
step() { echo; echo "== $*"; }
sql() { psql -d "$DB" -v ON_ERROR_STOP=1 -Atc "$1"; }

step "1. An installation: migrations, the demo municipality, a document, a heartbeat"
createdb "$DB"
$PY manage.py migrate --noinput -v 0
$PY manage.py load_demo >/dev/null
$PY manage.py shell -v 0 -c "
from django.core.files.uploadedfile import SimpleUploadedFile
from casework import services
from casework.models import Case
case = Case.objects.filter(status='open').order_by('pk').first()
services.attachment_add(actor=case.lead_worker, case=case, title='Drill document',
    upload=SimpleUploadedFile('drill.txt', b'drill document', content_type='text/plain'))
"
$PY manage.py sweep >/dev/null
# The runtime role of the hardening issue: the web and the workers connect with fewer rights
# than the owner. The restore must keep its grants.
psql -d postgres -qc "CREATE ROLE $ROLE NOLOGIN"
sql "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO $ROLE"
before_referrals=$(sql "SELECT count(*) FROM casework_referral")
before_history=$(sql "SELECT count(*) FROM casework_historicalreferral")
before_triggers=$(sql "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%_append_only'")
echo "referrals: $before_referrals, referral history rows: $before_history, append-only triggers: $before_triggers"

step "2. manage.py backup"
$PY manage.py backup --output "$WORK/backup"
ls -l "$WORK/backup"

step "3. Disaster: the database is dropped, the uploaded files are gone"
dropdb "$DB"
rm -rf "$MEDIA_ROOT"

step "4. manage.py restore into a new empty database"
createdb "$DB"
$PY manage.py restore "$WORK/backup"

step "5. Checks"
$PY manage.py migrate --check && echo "no migration left to apply"
test "$(sql "SELECT count(*) FROM casework_referral")" = "$before_referrals"
test "$(sql "SELECT count(*) FROM casework_historicalreferral")" = "$before_history"
test "$(sql "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%_append_only'")" = "$before_triggers"
echo "referrals, history rows and append-only triggers as before: $before_referrals, $before_history, $before_triggers"
test "$(sql "SELECT has_table_privilege('$ROLE', 'casework_referral', 'INSERT')")" = "t"
echo "the runtime role's grants are back"
if sql "UPDATE casework_historicalreferral SET observations = 'changed'" 2>"$WORK/err"; then
    echo "FAILED: a history row could be changed"; exit 1
fi
echo "the audit tables still refuse changes: $(head -1 "$WORK/err")"
$PY manage.py shell -v 0 -c "
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.test import Client
from casework.models import Attachment, Referral
from protocols.steps import run_step
document = Attachment.objects.get(title='Drill document')
assert default_storage.open(document.file.name).read() == b'drill document'
print('the uploaded document is back')
referral = Referral.objects.filter(status='submitted', district__code='nord').order_by('pk').first()
worker = get_user_model().objects.get(username='triage.longo')
run_step('referral.claim', obj=referral, actor=worker)
referral.refresh_from_db()
assert referral.status == 'in_triage', referral.status
print('the protocol runs: referral', referral.pk, 'claimed by the triage worker')
client = Client(HTTP_HOST='localhost')
assert client.login(username='triage.longo', password='demo1234')
page = client.get('/casework/queue/')
assert page.status_code == 200
print('the triage queue page opens for a demo user')
"
$PY manage.py sweep >/dev/null  # the heartbeat, as beat would write it
port=$($PY -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
$PY manage.py runserver "127.0.0.1:$port" --noreload >"$WORK/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
echo "/readyz of a server on the restored copy: $(curl -s -w ' (HTTP %{http_code})' "http://127.0.0.1:$port/readyz")"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
kill "$server"
test "$status" = 200
echo
echo "Restore drill passed."
