from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION loyalty_ledger_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'loyalty_ledgerentry is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER loyalty_ledger_append_only
    BEFORE UPDATE OR DELETE ON loyalty_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_forbid_change();
"""

ALLOW = """
DROP TRIGGER IF EXISTS loyalty_ledger_append_only ON loyalty_ledgerentry;
DROP FUNCTION IF EXISTS loyalty_ledger_forbid_change();
"""


class Migration(migrations.Migration):
    """The ledger is append-only in the database itself: UPDATE and DELETE raise, whoever asks."""

    dependencies = [("loyalty", "0001_initial")]

    operations = [migrations.RunSQL(FORBID, ALLOW)]
