-- 0110_verified_email: the caller's email, only when it is proven to be theirs.
--
-- core.get_current_user_email() (0003) is the email the adapter reports, which is what an email
-- invitation compares with its invited address. Features that admit someone by the DOMAIN of
-- their email (invitation links restricted to a domain, 0112) need more: on most platforms
-- anyone can sign up with any address, so an address counts only when the platform has checked
-- that its holder receives mail there. core.current_user_verified_email() answers that
-- question. Each adapter defines what proves it in its own SQL (Adapters/*/SQL), and replaces
-- this default:
--   * Supabase: auth.users.email_confirmed_at is set (GoTrue's own record of a confirmed
--     address). The token's user_metadata.email_verified is NOT proof: user_metadata is written
--     by the user themselves (auth.updateUser({ data })), so it is never read;
--   * Payload: the user's collection verifies email (auth.verify): Payload then refuses to sign
--     in an unverified user, and the adapter marks the identity's claims with email_verified;
--   * OIDC: the adapter records only an email its issuer marked verified (email_verified).
-- The default below proves nothing: a custom adapter that says nothing about verification
-- never lets an unproven address through.

-- core.current_user_verified_email(): the caller's email, lowercased and trimmed, when the
-- adapter can show it is verified; null otherwise (also when nobody is signed in).
-- Callable by the runtime roles; it tells the caller only about themselves. Raises nothing.
create or replace function core.current_user_verified_email()
returns text
language sql
stable
set search_path = ''
as $$
    select null::text;
$$;

revoke all on function core.current_user_verified_email() from public, anon;
grant execute on function core.current_user_verified_email() to app_user, app_admin;

comment on function core.current_user_verified_email() is
    'SMTA: the caller''s email when the adapter proves it verified, else null (adapters replace this default)';
