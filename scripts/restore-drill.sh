#!/usr/bin/env bash
# The restore drill (docs/operations.md): build a demo installation on a scratch PostgreSQL
# database, back it up, lose it (drop the database, delete the uploaded files), restore it,
# and check that nothing is missing and that the protocol still runs on it.
#
#   PGHOST=127.0.0.1 PGUSER=postgres scripts/restore-drill.sh
#
# The installation has the two roles of docs/operations.md ("Two database roles"): an owner
# that migrates, backs up and restores, and a runtime role for the web and the workers. It
# touches only the scratch database casework_drill_<pid>, the roles casework_drill_owner_<pid>
# and casework_drill_app_<pid>, and a temporary folder, and removes them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER
DB="casework_drill_$$"
OWNER="casework_drill_owner_$$"
ROLE="casework_drill_app_$$"
WORK=$(mktemp -d)
PY=${PY:-.venv/bin/python}
export DEBUG=1 EMAIL_URL=locmem:// MEDIA_ROOT="$WORK/media"
SUPERUSER_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
OWNER_URL="postgres://$OWNER@$PGHOST:$PGPORT/$DB"
APP_URL="postgres://$ROLE@$PGHOST:$PGPORT/$DB"
unset CELERY_BROKER_URL DATABASE_APP_ROLE
as_owner() { DATABASE_URL="$OWNER_URL" "$@"; }
as_app() { DATABASE_URL="$APP_URL" "$@"; }  # what the web and the workers connect as

cleanup() {
    psql -d postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null || true
    psql -d postgres -qc "DROP ROLE IF EXISTS $ROLE" >/dev/null || true
    psql -d postgres -qc "DROP ROLE IF EXISTS $OWNER" >/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
step() { echo; echo "== $*"; }
sql() { psql -d "$DB" -v ON_ERROR_STOP=1 -Atc "$1"; }

step "1. An installation: two roles, migrations, the demo municipality, a document, a heartbeat"
psql -d postgres -qc "CREATE ROLE $OWNER LOGIN"
createdb --owner "$OWNER" "$DB"
DATABASE_URL="$SUPERUSER_URL" $PY manage.py db_roles create "$ROLE"
as_owner env DATABASE_APP_ROLE="$ROLE" $PY manage.py migrate --noinput -v 0
as_app $PY manage.py load_demo >/dev/null
as_app $PY manage.py shell -v 0 -c "
from django.core.files.uploadedfile import SimpleUploadedFile
from casework import services
from casework.models import Case
case = Case.objects.filter(status='open').order_by('pk').first()
services.attachment_add(actor=case.lead_worker, case=case, title='Drill document',
    upload=SimpleUploadedFile('drill.txt', b'drill document', content_type='text/plain'))
"
as_app $PY manage.py sweep >/dev/null
before_referrals=$(sql "SELECT count(*) FROM casework_referral")
before_history=$(sql "SELECT count(*) FROM casework_historicalreferral")
before_triggers=$(sql "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%_append_only'")
echo "referrals: $before_referrals, referral history rows: $before_history, append-only triggers: $before_triggers"

step "2. manage.py backup, as the owner"
as_owner $PY manage.py backup --output "$WORK/backup"
ls -l "$WORK/backup"

step "3. Disaster: the database is dropped, the uploaded files are gone"
dropdb "$DB"
rm -rf "$MEDIA_ROOT"

step "4. manage.py restore into a new empty database, as the owner"
createdb --owner "$OWNER" "$DB"
as_owner $PY manage.py restore "$WORK/backup"

step "5. Checks"
as_owner $PY manage.py migrate --check && echo "no migration left to apply"
test "$(sql "SELECT count(*) FROM casework_referral")" = "$before_referrals"
test "$(sql "SELECT count(*) FROM casework_historicalreferral")" = "$before_history"
test "$(sql "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%_append_only'")" = "$before_triggers"
echo "referrals, history rows and append-only triggers as before: $before_referrals, $before_history, $before_triggers"
test "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> '$OWNER'")" = 0
echo "every table belongs to the owner role"
test "$(sql "SELECT has_table_privilege('$ROLE', 'casework_referral', 'INSERT')")" = "t"
test "$(sql "SELECT has_table_privilege('$ROLE', 'casework_historicalreferral', 'UPDATE')")" = "f"
echo "the runtime role's grants are back: it writes referrals, may not rewrite their history"
if sql "UPDATE casework_historicalreferral SET observations = 'changed'" 2>"$WORK/err"; then
    echo "FAILED: a history row could be changed"; exit 1
fi
echo "the audit tables still refuse changes, even to the owner: $(head -1 "$WORK/err")"
if psql "$APP_URL" -v ON_ERROR_STOP=1 -qc "DELETE FROM casework_historicalreferral" 2>"$WORK/err"; then
    echo "FAILED: the runtime role could delete history"; exit 1
fi
echo "and to the runtime role: $(head -1 "$WORK/err")"
as_app $PY manage.py shell -v 0 -c "
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
teacher = get_user_model().objects.get(username='maestra.rossi')  # no second factor asked
client.force_login(teacher)
page = client.get('/casework/')
assert page.status_code == 200 and b'/casework/referrals/' in page.content, page.status_code
print('a demo teacher\\'s home page lists her referrals')
"
as_app $PY manage.py sweep >/dev/null  # the heartbeat, as beat would write it
port=$($PY -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
as_app $PY manage.py runserver "127.0.0.1:$port" --noreload >"$WORK/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
echo "/readyz of a server on the restored copy: $(curl -s -w ' (HTTP %{http_code})' "http://127.0.0.1:$port/readyz")"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
kill "$server"
test "$status" = 200
echo
echo "Restore drill passed."
