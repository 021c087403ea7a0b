-- 0003_verified_email: what proves a Supabase user's email (core.current_user_verified_email,
-- Schema/migrations/0110_verified_email.sql).
--
-- GoTrue records a confirmed address in auth.users: email_confirmed_at is set once the user
-- followed the confirmation link (or the project confirms automatically), and auth.users.email
-- changes only when a new address is confirmed (the pending one waits in email_change). That
-- is the proof read here. The token's claims are not: its email claim is set before
-- confirmation when the project lets unconfirmed users sign in, and user_metadata (with
-- email_verified, which some providers fill in) is the user's own to write through
-- auth.updateUser({ data }) (supabase/auth-js #618), so it is never read.
--
-- A database without auth.users (SMTA's local development under the Supabase adapter) proves
-- no email at all. SECURITY DEFINER: the signed-in roles may not read auth.users.

-- core.current_user_verified_email(): the caller's confirmed email, lowercased and trimmed, from
-- auth.users; null when nobody is signed in, the address is not confirmed, or the database has
-- no auth.users. Callable by the runtime roles. Raises nothing.
create or replace function core.current_user_verified_email()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_me constant uuid := core.get_current_user_id();
    v_email text;
begin
    if v_me is null or pg_catalog.to_regclass('auth.users') is null then
        return null;
    end if;
    select u.email into v_email
    from auth.users as u
    where u.id = v_me
      and u.email_confirmed_at is not null;
    return nullif(pg_catalog.lower(pg_catalog.btrim(v_email)), '');
end
$$;

comment on function core.current_user_verified_email() is
    'SMTA (Supabase): the caller''s email when auth.users records it confirmed, else null';
