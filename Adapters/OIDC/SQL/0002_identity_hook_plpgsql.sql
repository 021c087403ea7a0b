-- 0002_identity_hook_plpgsql: the identity hook without planning on every call.
--
-- core.get_current_user_id() runs several times in every gated statement: in the API functions
-- (core.require_user_id), in the membership helpers the policies call, in triggers. 0001 made it
-- a SQL function with a SET clause, which PostgreSQL cannot inline, so it planned the body again
-- on every call: about 12 µs per call, 20 µs for the first in a statement (pgbench, 2 cores,
-- PostgreSQL 15). PL/pgSQL keeps the plan of its expression for the session: 3.5 µs per call.
--
-- Same result as 0001's: the transaction-local setting app.current_user_id that core.set_caller
-- makes; null when unset or empty; 22P02 when it is not a uuid.
create or replace function core.get_current_user_id()
returns uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
    return nullif(pg_catalog.current_setting('app.current_user_id', true), '')::pg_catalog.uuid;
end
$$;

comment on function core.get_current_user_id() is
    'SMTA identity hook (OIDC): the user id the bridge set for this transaction (app.current_user_id)';
