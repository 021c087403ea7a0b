-- Identity for the Supabase adapter, as PostgREST sets it per request: the verified claims in
-- the transaction-local setting request.jwt.claims and the role claim as the current role.
-- Same function names as identity_payload.sql, so the common suite runs unchanged under both.
-- Run after setup.sql: psql -v ON_ERROR_STOP=1 -1 -f Tests/SQL/support/identity_supabase.sql
--
-- These are SECURITY INVOKER on purpose: PostgreSQL forbids changing the role inside a
-- SECURITY DEFINER function.

-- Clears every identity setting of both mechanisms and returns to the session's own role.
create function tests.reset_identity() returns void
language plpgsql
as $$
begin
  perform pg_catalog.set_config('request.jwt.claims', '', true);
  perform pg_catalog.set_config('request.jwt.claim.sub', '', true);
  perform pg_catalog.set_config('app.current_user_id', '', true);
  perform pg_catalog.set_config('app.current_organization_id', '', true);
  perform pg_catalog.set_config('request.headers', '', true);
  perform pg_catalog.set_config('role', 'none', true);
end
$$;

-- Acts as the signed-in user p_user_id: an access token's claims (sub, role, email, aud) and
-- role authenticated. The email defaults to the user's core.users_meta email, as GoTrue puts
-- the account's email in every token ('' when it has none).
create function tests.authenticate_as(p_user_id uuid, p_email text default null) returns void
language plpgsql
as $$
declare
  v_email text := coalesce(p_email, tests.user_email(p_user_id), '');
begin
  perform tests.reset_identity();
  perform pg_catalog.set_config('request.jwt.claims',
    pg_catalog.jsonb_build_object(
      'sub', p_user_id, 'role', 'authenticated', 'email', v_email, 'aud', 'authenticated',
      'is_anonymous', false)::text,
    true);
  perform pg_catalog.set_config('role', 'authenticated', true);
end
$$;

-- Acts as a request without a user: the anon key's claims and role anon.
create function tests.authenticate_anon() returns void
language plpgsql
as $$
begin
  perform tests.reset_identity();
  perform pg_catalog.set_config('request.jwt.claims', '{"role": "anon"}', true);
  perform pg_catalog.set_config('role', 'anon', true);
end
$$;

-- Acts as the service role (the service_role key; with p_user_id, a service-role call made on
-- behalf of that user, e.g. a platform operator).
create function tests.authenticate_service_role(p_user_id uuid default null) returns void
language plpgsql
as $$
begin
  perform tests.reset_identity();
  perform pg_catalog.set_config('request.jwt.claims',
    case when p_user_id is null
      then '{"role": "service_role"}'
      else pg_catalog.jsonb_build_object('role', 'service_role', 'sub', p_user_id)::text
    end,
    true);
  perform pg_catalog.set_config('role', 'service_role', true);
end
$$;

-- Acts as the signed-in user p_user_id whose email GoTrue has confirmed: their auth.users row
-- carries it with email_confirmed_at, which is what core.current_user_verified_email() reads.
-- A database without auth.users (this suite's) gets GoTrue's columns that matter here, for
-- the rest of the test's transaction.
create function tests.authenticate_verified(p_user_id uuid) returns void
language plpgsql
as $$
begin
  perform tests.reset_identity();
  if pg_catalog.to_regclass('auth.users') is null then
    create table auth.users (id uuid primary key, email text, email_confirmed_at timestamptz);
  end if;
  insert into auth.users (id, email, email_confirmed_at)
  values (p_user_id, tests.user_email(p_user_id), pg_catalog.now())
  on conflict (id) do update set email = excluded.email, email_confirmed_at = excluded.email_confirmed_at;
  perform tests.authenticate_as(p_user_id);
end
$$;
