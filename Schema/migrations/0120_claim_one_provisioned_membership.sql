-- 0120_claim_one_provisioned_membership: a person's consent to one organization's SCIM
-- provisioning joins that organization only.
--
-- 0118's public.claim_provisioned_memberships() takes no organization: it binds every pending
-- SCIM user of the caller's verified address at once. Any signed-in user can create an
-- organization and a SCIM token, and provision any address; so when Acme's directory adds
-- someone@gmail.com and the app asks "Acme added you: join?", their yes would also join every
-- other organization that provisioned the same address (its members would then see their name
-- and email, and learn that the account exists). The consent is now per organization:
-- p_organization_id names the one the person accepted; without it (null), every organization
-- that public.list_provisioned_memberships() showed them, for an app that shows them all and
-- asks once. Calls written for 0118 (no argument, or p_within_verified_domains by name or
-- position) mean what they meant.

-- ---------------------------------------------------------------------------------------------
-- core.bind_scim_users: 0118's, narrowed to one organization when p_organization_id is given.
-- Callers passing three arguments (the adapters' triggers, the domain-verification trigger)
-- get every organization, as before.
-- ---------------------------------------------------------------------------------------------

drop function core.bind_scim_users(uuid, text, boolean);

-- core.bind_scim_users(p_user_id, p_verified_email, p_consented, p_organization_id): as in 0118;
-- p_organization_id, when not null, binds only that organization's pending SCIM user.
create function core.bind_scim_users(
    p_user_id uuid, p_verified_email text, p_consented boolean, p_organization_id uuid default null
)
returns setof uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_email constant text := nullif(pg_catalog.lower(pg_catalog.btrim(p_verified_email)), '');
    v_scim core.scim_users;
begin
    if p_user_id is null or v_email is null then
        return;
    end if;

    for v_scim in
        select s.*
        from core.scim_users as s
        join core.organizations as o on o.id = s.organization_id and not o.is_deleted
        where s.email = v_email
          and s.user_id is null
          and (p_consented is true or core.scim_binds_automatically(s.organization_id, s.email))
          and (p_organization_id is null or s.organization_id = p_organization_id)
        order by s.organization_id
        for update of s
    loop
        continue when core.is_owner_of(v_scim.organization_id, p_user_id);
        continue when exists (
            select 1 from core.scim_users as other
            where other.organization_id = v_scim.organization_id
              and other.user_id = p_user_id
        );
        begin
            -- Bound first: the membership below then takes the seat the row reserved.
            update core.scim_users as s
            set user_id = p_user_id
            where s.id = v_scim.id
            returning s.* into v_scim;
            perform core.scim_sync_membership(v_scim, p_user_id);
            if v_scim.active then
                return next v_scim.organization_id;
            end if;
        exception
            when sqlstate 'P0001' or sqlstate '23505' or sqlstate '42501' then
                null; -- left pending; a later sign-in or claim tries again
        end;
    end loop;
end
$$;

revoke all on function core.bind_scim_users(uuid, text, boolean, uuid) from public, anon, authenticated, app_user;

-- ---------------------------------------------------------------------------------------------
-- public.claim_provisioned_memberships(p_within_verified_domains, p_organization_id)
-- ---------------------------------------------------------------------------------------------

drop function public.claim_provisioned_memberships(boolean);

-- public.claim_provisioned_memberships(p_within_verified_domains default false,
-- p_organization_id default null): as 0118's, and with p_organization_id the caller consents to
-- that organization only: its pending SCIM user of their address binds, no other. An
-- organization that provisioned nothing for them (or that they cannot join now) joins nothing
-- and raises nothing: the answer is the same whether it exists or not.
-- Any signed-in user. Raises 42501 when not signed in.
create function public.claim_provisioned_memberships(
    p_within_verified_domains boolean default false,
    p_organization_id uuid default null
)
returns table (
    organization_id uuid,
    organization_name text,
    role text
)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := core.require_user_id();
    v_email constant text := core.current_user_verified_email();
    -- null reads as the narrower answer: consent is given by saying so
    v_consented constant boolean := p_within_verified_domains is false;
    v_joined uuid[];
begin
    if v_email is null then
        return;
    end if;
    -- Bound first, read after: a query does not see what a function inside it wrote.
    v_joined := array(
        select b.id from core.bind_scim_users(v_user_id, v_email, v_consented, p_organization_id) as b (id)
    );
    return query
    select o.id, o.name, r.name
    from core.organizations as o
    join core.memberships as m on m.organization_id = o.id and m.user_id = v_user_id
    join core.roles as r on r.id = m.role_id
    where o.id = any (v_joined)
    order by o.name, o.id;
end;
$$;

revoke all on function public.claim_provisioned_memberships(boolean, uuid) from public, anon;
grant execute on function public.claim_provisioned_memberships(boolean, uuid) to app_user;

comment on function public.claim_provisioned_memberships(boolean, uuid) is
$$Joins the caller to the organizations whose identity provider provisioned their verified email through SCIM: the one named, or all of them.
Binds the pending SCIM users with the caller's verified email (as the platform proves it; nothing for an unverified one) and makes the active ones memberships with their SCIM role and groups; an organization whose super_admin the caller is, or that has no free seat any more, is left out. Two uses. The user's consent (p_within_verified_domains false, the default): call it when the user accepts what list_provisioned_memberships showed them, with p_organization_id the organization they accepted ("Acme's directory added you: join?"): only its pending SCIM user binds; without p_organization_id, every pending SCIM user of their address binds, whatever its domain, for an app that showed them all and asked once. Binding at sign-in where the database has no trigger for it (Payload): the bridge calls it as the user with p_within_verified_domains true (null counts as true) on the first request of each new session; only addresses in one of the provisioning organization's verified domains bind, as the Supabase and OIDC adapters' triggers bind them by themselves when the email is confirmed or recorded; the others wait for the user's consent.
Callers: any signed-in user.
Returns: one row per organization joined (organization_id, organization_name, role); none when nothing was pending (for p_organization_id: nothing pending there, or no such organization, alike).
Errors: 42501 when not signed in.$$;
