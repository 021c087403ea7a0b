-- 0004_scim_binding: SCIM users bind to OIDC users by the email their issuer verified
-- (Schema/migrations/0118_scim_provisioning.sql).
--
-- core.link_identity records in core.identity_links.email only an email the issuer marked
-- verified (0001, 0003_verified_email). So, for an address in one of the provisioning
-- organization's verified domains (the only binding without its holder's consent, 0118):
--   * core.find_verified_user: a SCIM provisioning that names an address recorded there binds
--     to that user at once;
--   * a trigger on core.identity_links binds the pending SCIM users of an address as soon as
--     link_identity records it (a first sign-in, or a new verified address); link_identity
--     itself is unchanged.
-- Any other address waits until its user calls public.claim_provisioned_memberships().

-- Addresses are recorded as the issuer sent them: looked up lowercased.
create index if not exists idx_identity_links_email on core.identity_links (pg_catalog.lower(email))
    where email is not null;

-- core.find_verified_user(p_email): the OIDC user whose issuer verified exactly this (lowercase)
-- address; null when there is none or more than one (several issuers, several users). Internal.
-- Raises nothing.
create or replace function core.find_verified_user(p_email text)
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
    select case when pg_catalog.count(distinct il.user_id) = 1 then pg_catalog.min(il.user_id::text)::uuid end
    from core.identity_links as il
    where pg_catalog.lower(il.email) = p_email;
$$;

revoke all on function core.find_verified_user(text) from public, anon, authenticated, app_user;

-- core.bind_scim_users_of_identity(): AFTER INSERT OR UPDATE OF email on core.identity_links:
-- the pending SCIM users of the newly recorded (verified) address in their organizations'
-- verified domains are bound (core.bind_scim_users, not consented); the others wait for the
-- user's claim. A sign-in must never fail because of it: a binding the schema refuses
-- stays pending (0118), and anything unexpected is reported as a warning. Internal (trigger);
-- raises nothing.
create or replace function core.bind_scim_users_of_identity()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_email text := pg_catalog.lower(pg_catalog.btrim(new.email));
begin
    if v_email is null or v_email = '' then
        return null;
    end if;
    if not exists (
        select 1 from core.scim_users as s
        where s.email = v_email
          and s.user_id is null
          and core.scim_binds_automatically(s.organization_id, s.email)
    ) then
        return null;
    end if;
    begin
        perform core.bind_scim_users(new.user_id, v_email, false);
    exception
        when others then
            raise warning 'SMTA: binding the SCIM users of user % failed: %', new.user_id, sqlerrm;
    end;
    return null;
end
$$;

revoke all on function core.bind_scim_users_of_identity() from public, anon, authenticated, app_user;

create trigger trg_identity_links_scim_binding after insert or update of email on core.identity_links
    for each row execute function core.bind_scim_users_of_identity();
