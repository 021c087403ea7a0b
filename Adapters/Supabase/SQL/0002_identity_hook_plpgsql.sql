-- 0002_identity_hook_plpgsql: the identity hook without planning on every call.
--
-- core.get_current_user_id() runs several times in every gated statement: in the API functions
-- (core.require_user_id), in the membership helpers the policies call, in triggers. 0001 made it
-- a SQL function calling auth.uid(), both with a SET clause (and the hook SECURITY DEFINER), so
-- PostgreSQL could inline neither and planned both bodies again on every call: about 23 µs per
-- call, 45 µs for the first in a statement (pgbench, 2 cores, PostgreSQL 15). PL/pgSQL keeps the
-- plan of its expression for the session: 4 µs per call. A gated list_my_organizations costs
-- PostgreSQL about a fifth less (BENCHMARKS.md).
--
-- Same result as auth.uid(), read from the same settings rather than through a call — calling
-- it would keep one of the two plannings, since Supabase's own auth.uid() has a SET clause too
-- (GoTrue's migration 20240624145325_recreate_auth_functions; platforms.md): the legacy
-- request.jwt.claim.sub when non-empty, else the sub key of request.jwt.claims; null when
-- neither is set; 22P02 when the value is not a uuid. It reads only settings, so it no longer
-- runs as its owner; every name is schema-qualified and the search_path pinned.
create or replace function core.get_current_user_id()
returns uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
    return coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb
            operator(pg_catalog.->>) 'sub'
    )::pg_catalog.uuid;
end
$$;

comment on function core.get_current_user_id() is
    'SMTA identity hook (Supabase): the JWT''s sub claim as a uuid, exactly as auth.uid() reads it';
