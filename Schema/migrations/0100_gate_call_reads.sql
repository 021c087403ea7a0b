-- 0100_gate_call_reads: a gated call that wrote nothing skips the deferred checks.
--
-- 0090 ends every core.gate_call with SET CONSTRAINTS ALL IMMEDIATE, so that a deferred
-- constraint failing at commit is the call's own error. A utility statement through SPI costs
-- about 9 µs of PostgreSQL's CPU per call (pgbench, 2 cores, PostgreSQL 15), a twentieth of a
-- gated read, for nothing when the call wrote no row: deferred constraint triggers, like every
-- after-row trigger, are queued only by row writes, and writing a row assigns the transaction an
-- id. So the checks run only when pg_current_xact_id_if_assigned() says the call wrote — whatever
-- function wrote it, the called one or anything it called, in a subtransaction or not.
-- Otherwise as in 0090.
-- Callers: the bridge's login role (app_admin). Raises what core.set_caller raises; the
-- statement's own errors, and its deferred constraints' errors, pass through unchanged.
create or replace function core.gate_call(
    p_role text,
    p_user_id uuid,
    p_claims text,
    p_secrets_key text,
    p_link_provider text,
    p_link_subject text,
    p_link_email text,
    p_allow_anonymous_users boolean,
    p_statement text,
    p_arguments json
)
returns json
language plpgsql
volatile
-- No SET clause, for the reason given at core.set_caller.
as $$
declare
    v_result json;
begin
    perform core.set_caller(p_role, p_user_id, p_claims, p_secrets_key,
                            p_link_provider, p_link_subject, p_link_email, p_allow_anonymous_users);
    execute p_statement into v_result using p_arguments;
    if pg_catalog.pg_current_xact_id_if_assigned() is not null then
        set constraints all immediate;
    end if;
    return v_result;
end
$$;
