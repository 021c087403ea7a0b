-- Identity for the Payload adapter, as the bridge sets it per request: the SMTA user id in the
-- transaction-local setting app.current_user_id and the role authenticated; the user's email
-- reaches SQL through core.users_meta (the bridge records it before switching role).
-- Same function names as identity_supabase.sql, so the common suite runs unchanged under both.
-- Run after setup.sql: psql -v ON_ERROR_STOP=1 -1 -f Tests/SQL/support/identity_payload.sql
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

-- Acts as the signed-in user p_user_id; with p_email, the session's email is recorded in
-- core.users_meta first, as the bridge does with the email of the Payload user.
create function tests.authenticate_as(p_user_id uuid, p_email text default null) returns void
language plpgsql
as $$
begin
  perform tests.reset_identity();
  if p_email is not null then
    perform tests.set_user_email(p_user_id, p_email);
  end if;
  perform pg_catalog.set_config('app.current_user_id', p_user_id::text, true);
  perform pg_catalog.set_config('role', 'authenticated', true);
end
$$;

-- Acts as a request without a user: no user id, role anon.
create function tests.authenticate_anon() returns void
language plpgsql
as $$
begin
  perform tests.reset_identity();
  perform pg_catalog.set_config('role', 'anon', true);
end
$$;

-- Acts as the service role (with p_user_id, a service-role call made on behalf of that user,
-- e.g. a platform operator).
create function tests.authenticate_service_role(p_user_id uuid default null) returns void
language plpgsql
as $$
begin
  perform tests.reset_identity();
  perform pg_catalog.set_config('app.current_user_id', coalesce(p_user_id::text, ''), true);
  perform pg_catalog.set_config('role', 'service_role', true);
end
$$;

-- Acts as the signed-in user p_user_id of a collection that verifies email (auth.verify): the
-- adapter then marks the identity's claims with email_verified, which is what
-- core.current_user_verified_email() reads.
create function tests.authenticate_verified(p_user_id uuid) returns void
language plpgsql
as $$
begin
  perform tests.authenticate_as(p_user_id);
  perform pg_catalog.set_config('request.jwt.claims', pg_catalog.jsonb_build_object(
    'role', 'authenticated', 'sub', p_user_id, 'email', tests.user_email(p_user_id),
    'collection', 'users', 'email_verified', true)::text, true);
end
$$;
