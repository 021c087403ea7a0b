-- 0002_identity_hook_plpgsql: the identity hook without planning on every call.
--
-- core.get_current_user_id() runs several times in every gated statement: in the API functions
-- (core.require_user_id), in the membership helpers the policies call, in triggers. 0001 made it
-- a SQL function calling auth.uid(), and on a plain PostgreSQL 0001's auth.uid() has a SET
-- clause too, so PostgreSQL could inline neither and planned both bodies again on every call:
-- about 23 µs per call, 45 µs for the first in a statement (pgbench, 2 cores, PostgreSQL 15).
--
-- * The hook becomes PL/pgSQL, which keeps the plan of its expression for the session. It still
--   calls auth.uid() as its owner (SECURITY DEFINER, as in 0001: callers need no privilege on
--   the auth schema), so its answer is auth.uid()'s on every platform — on Supabase, GoTrue's
--   own definition.
-- * auth.uid() as SMTA provides it on a plain PostgreSQL (0001, recognised by its comment) loses
--   its SET clause, like Supabase's own, which has none: PostgreSQL then inlines it into the
--   hook's expression. Same body, every name schema-qualified, the operator too. Supabase's
--   auth.uid() is never touched.
-- Together 4–5 µs per call; the same hook calling 0001's auth.uid() cost 7–10 µs per call and
-- 26–35 µs more for the first in a statement (pgbench, one connection).
do $do$
begin
    if pg_catalog.obj_description(pg_catalog.to_regprocedure('auth.uid()'), 'pg_proc')
       = 'The JWT''s sub claim as a uuid (Supabase''s definition, provided by SMTA on plain PostgreSQL)' then
        create or replace function auth.uid()
        returns uuid
        language sql
        stable
        as $fn$
            select coalesce(
                nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
                nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb
                    operator(pg_catalog.->>) 'sub'
            )::pg_catalog.uuid
        $fn$;
    end if;
end;
$do$;

create or replace function core.get_current_user_id()
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return auth.uid();
end
$$;

comment on function core.get_current_user_id() is
    'SMTA identity hook (Supabase): auth.uid(), the JWT''s sub claim as a uuid';
