-- 0004_scim_binding: SCIM users bind to Supabase Auth users by confirmed email
-- (Schema/migrations/0118_scim_provisioning.sql).
--
-- GoTrue's auth.users is the proof of an address (0003_verified_email): email_confirmed_at is
-- set once its holder followed the confirmation link, and email changes only to a confirmed
-- address. So, for an address in one of the provisioning organization's verified domains (the
-- only binding without its holder's consent, 0118):
--   * core.find_verified_user: a SCIM provisioning that names an address a confirmed user holds
--     binds to that user at once;
--   * a trigger on auth.users binds the pending SCIM users of an address when its user is
--     confirmed, changes to it, or signs in (last_sign_in_at), with no call from the bridge.
-- Any other address waits until its user calls public.claim_provisioned_memberships().
-- raw_user_meta_data (user_metadata) is never read: its user writes it. On a database without
-- auth.users (SMTA's local development under the Supabase adapter) nothing is proven: the
-- default of 0118 stays in force and no trigger is made; public.claim_provisioned_memberships
-- proves nothing there either (core.current_user_verified_email is null).

-- core.find_verified_user(p_email): the confirmed Supabase Auth user with exactly this
-- (lowercase) address; null when there is none, more than one (SSO users may share an address)
-- or no auth.users. GoTrue stores addresses lowercased, so the exact comparison uses its index.
-- Internal. Raises nothing.
create or replace function core.find_verified_user(p_email text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_ids uuid[];
begin
    if p_email is null or pg_catalog.to_regclass('auth.users') is null then
        return null;
    end if;
    select pg_catalog.array_agg(u.id) into v_ids
    from (select u.id from auth.users as u
          where u.email = p_email
            and u.email_confirmed_at is not null
          limit 2) as u;
    if pg_catalog.cardinality(v_ids) = 1 then
        return v_ids[1];
    end if;
    return null;
end
$$;

revoke all on function core.find_verified_user(text) from public, anon, authenticated, app_user;

-- core.bind_scim_users_of_auth_user(): AFTER INSERT OR UPDATE OF email_confirmed_at, email,
-- last_sign_in_at on auth.users: a confirmed user's pending SCIM users (of their address) in
-- their organizations' verified domains are bound (core.bind_scim_users, not consented); the
-- others wait for the user's claim. A sign-in must never fail because of it: a binding the
-- schema refuses stays pending (0118), and anything unexpected is reported as a warning. Fired
-- by Supabase Auth only; raises nothing.
create or replace function core.bind_scim_users_of_auth_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_email text := pg_catalog.lower(pg_catalog.btrim(new.email));
begin
    if new.email_confirmed_at is null or v_email is null or v_email = '' then
        return null;
    end if;
    -- the common case (a sign-in, nothing to bind): one probe of the pending index, the domain
    -- read only for a pending row (one waiting for consent does not cost a binding each sign-in)
    if not exists (
        select 1 from core.scim_users as s
        where s.email = v_email
          and s.user_id is null
          and core.scim_binds_automatically(s.organization_id, s.email)
    ) then
        return null;
    end if;
    begin
        perform core.bind_scim_users(new.id, v_email, false);
    exception
        when others then
            raise warning 'SMTA: binding the SCIM users of auth user % failed: %', new.id, sqlerrm;
    end;
    return null;
end
$$;

revoke all on function core.bind_scim_users_of_auth_user() from public, anon, authenticated, app_user;

-- core.attach_scim_binding_to_auth_users(): creates (or replaces) the trigger above on
-- auth.users, watching those of email_confirmed_at, email and last_sign_in_at that the table
-- has; does nothing without auth.users. Called below; call it again if Supabase Auth's schema
-- is installed after SMTA's migrations. The operator (owner) only. Raises nothing.
create or replace function core.attach_scim_binding_to_auth_users()
returns void
language plpgsql
set search_path = ''
as $$
declare
    v_columns text;
begin
    if pg_catalog.to_regclass('auth.users') is null then
        return;
    end if;
    select pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' order by a.attname) into v_columns
    from pg_catalog.pg_attribute as a
    where a.attrelid = 'auth.users'::regclass
      and a.attname in ('email_confirmed_at', 'email', 'last_sign_in_at')
      and not a.attisdropped;
    execute format(
        'create or replace trigger trg_scim_binding after insert or update of %s on auth.users '
        'for each row execute function core.bind_scim_users_of_auth_user()', v_columns);
end
$$;

revoke all on function core.attach_scim_binding_to_auth_users() from public, anon, authenticated, app_user;

select core.attach_scim_binding_to_auth_users();
