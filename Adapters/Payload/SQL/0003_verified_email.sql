-- 0003_verified_email: what proves a Payload user's email (core.current_user_verified_email,
-- Schema/migrations/0110_verified_email.sql).
--
-- Payload verifies an address only in collections with auth.verify, and then refuses to sign
-- in a user whose _verified flag is not set. The adapter knows which collections verify (its
-- `verified` option, platforms.md) and says so in the identity's claims: email_verified is true
-- only for a user of such a collection, whose sign-in it checked. In a collection without
-- auth.verify anyone may register any address, so nothing is proven.

-- core.current_user_verified_email(): the caller's email, lowercased and trimmed, when the
-- adapter marked it verified in request.jwt.claims; null otherwise. Callable by the runtime
-- roles. Raises nothing (unreadable claims prove nothing).
create or replace function core.current_user_verified_email()
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
    v_claims pg_catalog.jsonb;
begin
    begin
        v_claims := nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb;
    exception
        when invalid_text_representation then
            return null;
    end;
    if v_claims is null
       or pg_catalog.jsonb_typeof(v_claims) operator(pg_catalog.<>) 'object'
       or (v_claims operator(pg_catalog.->) 'email_verified') is distinct from 'true'::pg_catalog.jsonb then
        return null;
    end if;
    return nullif(pg_catalog.lower(pg_catalog.btrim(core.get_current_user_email())), '');
end
$$;

comment on function core.current_user_verified_email() is
    'SMTA (Payload): the caller''s email when their collection verifies email (claims.email_verified), else null';
