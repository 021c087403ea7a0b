-- 0003_verified_email: what proves an OIDC user's email (core.current_user_verified_email,
-- Schema/migrations/0110_verified_email.sql).
--
-- The OIDC adapter passes an email to core.link_identity only when the token's email-verified
-- claim is the JSON literal true (or Cognito's "true"), and core.get_current_user_email() reads
-- the email so recorded: every email SMTA knows for an OIDC user is one its issuer verified.

-- core.current_user_verified_email(): the caller's recorded email, lowercased and trimmed; null
-- when nobody is signed in or the issuer never verified an email for them. Callable by the
-- runtime roles. Raises nothing.
create or replace function core.current_user_verified_email()
returns text
language sql
stable
set search_path = ''
as $$
    select nullif(pg_catalog.lower(pg_catalog.btrim(core.get_current_user_email())), '');
$$;

comment on function core.current_user_verified_email() is
    'SMTA (OIDC): the caller''s email, which the adapter records only when the issuer marked it verified';
