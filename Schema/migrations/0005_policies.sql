-- 0005_policies: row-level security on every core and platform table (enabled AND forced),
-- and the table privileges of the runtime roles.
--
-- Policies are written for app_user (authenticated inherits it). They compare columns with the
-- caller's id sets, computed once per statement through scalar subqueries (see 0003):
-- organization_id = any ((select core.current_user_org_ids())::uuid[]). No helper is ever called
-- with a row's column as argument. Soft-deleted rows are invisible to members, and there are no
-- DELETE policies: rows are soft-deleted through the API (SECURITY DEFINER functions run as
-- the owner, which bypasses RLS and checks the caller itself).
--
-- Reminder for direct UPDATEs: when an UPDATE reads columns (a WHERE clause), PostgreSQL also
-- checks the new row against the SELECT policies, so a client cannot soft-delete a row by
-- hand (the deleted row would become invisible): that is what the API functions are for.

-- =============================================================================================
-- RLS on, and forced (the owner is no exception; it bypasses only as superuser/BYPASSRLS)
-- =============================================================================================
do $$
declare
    v_table regclass;
begin
    for v_table in
        select c.oid::regclass
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('core', 'platform') and c.relkind in ('r', 'p')
        order by 1
    loop
        execute format('alter table %s enable row level security', v_table);
        execute format('alter table %s force row level security', v_table);
    end loop;
end
$$;

-- =============================================================================================
-- Table privileges
-- =============================================================================================
-- app_user gets exactly what its policies allow, column by column where a table must not be
-- rewritten by hand (identity columns, invitation tokens, emails that invitations trust).
-- app_admin (service_role) administers everything, but the audit log stays append-only.
grant select, insert, update on core.organizations to app_user;
grant select on core.organizations_meta to app_user;
grant update (logo_file_id, address, timezone, locale) on core.organizations_meta to app_user;
grant select, insert, update on core.units to app_user;
grant select on core.unit_meta to app_user;
grant update (notes) on core.unit_meta to app_user;
grant select, insert, update on core.memberships to app_user;
grant select, insert, update on core.unit_memberships to app_user;
grant select on core.invitations to app_user;
grant update (status, expires_at, metadata) on core.invitations to app_user;
grant select, insert, update on core.organization_files to app_user;
grant select on core.roles to app_user;
grant select on core.users_meta to app_user;
grant update (first_name, last_name, avatar_url, timezone, locale) on core.users_meta to app_user;
grant select on core.audit_logs to app_user;

grant select, insert, update, delete on all tables in schema core to app_admin;
revoke update, delete, truncate on core.audit_logs from app_admin;
grant select, insert, update, delete on all tables in schema platform to app_admin;

-- =============================================================================================
-- core.organizations
-- =============================================================================================
-- Members see the live organizations they belong to.
create policy "members see their organizations" on core.organizations
    for select to app_user
    using (not is_deleted and id = any ((select core.current_user_org_ids())::uuid[]));

-- Any signed-in user may create an organization in their own name; a trigger then makes them
-- its super_admin.
create policy "users create organizations they own" on core.organizations
    for insert to app_user
    with check (not is_deleted and created_by = (select core.get_current_user_id()));

-- Only the super_admin edits the organization itself.
create policy "the super_admin updates the organization" on core.organizations
    for update to app_user
    using (id = any ((select core.current_user_super_admin_org_ids())::uuid[]))
    with check (id = any ((select core.current_user_super_admin_org_ids())::uuid[]));

-- =============================================================================================
-- core.organizations_meta
-- =============================================================================================
-- Members read their organization's metadata.
create policy "members see their organization's metadata" on core.organizations_meta
    for select to app_user
    using (not is_deleted and id = any ((select core.current_user_org_ids())::uuid[]));

-- Only the super_admin edits it (address, timezone, locale, logo).
create policy "the super_admin updates the organization's metadata" on core.organizations_meta
    for update to app_user
    using (id = any ((select core.current_user_super_admin_org_ids())::uuid[]))
    with check (id = any ((select core.current_user_super_admin_org_ids())::uuid[]));

-- =============================================================================================
-- core.units and core.unit_meta
-- =============================================================================================
-- Every member of an organization sees all of its live units (SMTA 0.8 behaviour).
create policy "members see their organization's units" on core.units
    for select to app_user
    using (not is_deleted and organization_id = any ((select core.current_user_org_ids())::uuid[]));

-- The super_admin and managers create units.
create policy "managers create units" on core.units
    for insert to app_user
    with check (not is_deleted and organization_id = any ((select core.current_user_managed_org_ids())::uuid[]));

-- The super_admin and managers edit units (name, description, parent).
create policy "managers update units" on core.units
    for update to app_user
    using (organization_id = any ((select core.current_user_managed_org_ids())::uuid[]))
    with check (organization_id = any ((select core.current_user_managed_org_ids())::uuid[]));

-- Members see the notes of the units they can see.
create policy "members see their organization's unit notes" on core.unit_meta
    for select to app_user
    using (
        not is_deleted
        and exists (
            select 1 from core.units u
            where u.id = unit_meta.id
              and u.organization_id = any ((select core.current_user_org_ids())::uuid[])
        )
    );

-- The super_admin and managers edit unit notes.
create policy "managers update unit notes" on core.unit_meta
    for update to app_user
    using (
        exists (
            select 1 from core.units u
            where u.id = unit_meta.id
              and u.organization_id = any ((select core.current_user_managed_org_ids())::uuid[])
        )
    )
    with check (
        exists (
            select 1 from core.units u
            where u.id = unit_meta.id
              and u.organization_id = any ((select core.current_user_managed_org_ids())::uuid[])
        )
    );

-- =============================================================================================
-- core.memberships and core.unit_memberships
-- =============================================================================================
-- Members see who belongs to their organizations (live memberships only).
create policy "members see their organization's memberships" on core.memberships
    for select to app_user
    using (not is_deleted and organization_id = any ((select core.current_user_org_ids())::uuid[]));

-- Only the super_admin and managers add members directly (SMTA 0.8 let any member do it:
-- defect 7). The trigger core.guard_direct_membership_write adds the finer rules: nobody
-- touches their own membership or is_super_admin, only the super_admin gives that role.
create policy "managers add members" on core.memberships
    for insert to app_user
    with check (organization_id = any ((select core.current_user_managed_org_ids())::uuid[]));

-- Only the super_admin and managers change memberships (same finer rules).
create policy "managers update memberships" on core.memberships
    for update to app_user
    using (organization_id = any ((select core.current_user_managed_org_ids())::uuid[]))
    with check (organization_id = any ((select core.current_user_managed_org_ids())::uuid[]));

-- Members see the unit memberships of their organization's units.
create policy "members see their organization's unit memberships" on core.unit_memberships
    for select to app_user
    using (
        not is_deleted
        and exists (
            select 1 from core.units u
            where u.id = unit_memberships.unit_id
              and u.organization_id = any ((select core.current_user_org_ids())::uuid[])
        )
    );

-- Only the organization's super_admin and managers assign people to units.
create policy "managers add unit members" on core.unit_memberships
    for insert to app_user
    with check (
        exists (
            select 1 from core.units u
            where u.id = unit_memberships.unit_id
              and not u.is_deleted
              and u.organization_id = any ((select core.current_user_managed_org_ids())::uuid[])
        )
    );

-- Only the organization's super_admin and managers change unit memberships.
create policy "managers update unit memberships" on core.unit_memberships
    for update to app_user
    using (
        exists (
            select 1 from core.units u
            where u.id = unit_memberships.unit_id
              and u.organization_id = any ((select core.current_user_managed_org_ids())::uuid[])
        )
    )
    with check (
        exists (
            select 1 from core.units u
            where u.id = unit_memberships.unit_id
              and u.organization_id = any ((select core.current_user_managed_org_ids())::uuid[])
        )
    );

-- =============================================================================================
-- core.invitations
-- =============================================================================================
-- Members see their organization's invitations (any status); the tokens stored are hashes.
create policy "members see their organization's invitations" on core.invitations
    for select to app_user
    using (not is_deleted and organization_id = any ((select core.current_user_org_ids())::uuid[]));

-- An invitee sees the pending invitations addressed to their own email.
create policy "invitees see their pending invitations" on core.invitations
    for select to app_user
    using (
        not is_deleted
        and status = 'pending'
        and lower(email) = lower((select core.get_current_user_email()))
    );

-- The super_admin and managers may change an invitation's status, expiry or metadata (e.g. cancel
-- it); creating, resending and accepting go through the API.
create policy "managers update invitations" on core.invitations
    for update to app_user
    using (organization_id = any ((select core.current_user_managed_org_ids())::uuid[]))
    with check (organization_id = any ((select core.current_user_managed_org_ids())::uuid[]));

-- =============================================================================================
-- core.organization_files
-- =============================================================================================
-- Members see their organization's live files.
create policy "members see their organization's files" on core.organization_files
    for select to app_user
    using (not is_deleted and organization_id = any ((select core.current_user_org_ids())::uuid[]));

-- Members add files to their organizations.
create policy "members add files" on core.organization_files
    for insert to app_user
    with check (not is_deleted and organization_id = any ((select core.current_user_org_ids())::uuid[]));

-- Members update file metadata in their organizations.
create policy "members update files" on core.organization_files
    for update to app_user
    using (organization_id = any ((select core.current_user_org_ids())::uuid[]))
    with check (organization_id = any ((select core.current_user_org_ids())::uuid[]));

-- =============================================================================================
-- core.roles
-- =============================================================================================
-- Everyone signed in sees the global roles; members also see their organizations' own roles.
create policy "users see global roles and their organizations' roles" on core.roles
    for select to app_user
    using (
        not is_deleted
        and (organization_id is null or organization_id = any ((select core.current_user_org_ids())::uuid[]))
    );

-- =============================================================================================
-- core.users_meta
-- =============================================================================================
-- Users see their own profile and the profiles of people sharing a live organization with
-- them.
create policy "users see themselves and their colleagues" on core.users_meta
    for select to app_user
    using (
        not is_deleted
        and (
            id = (select core.get_current_user_id())
            or exists (
                select 1 from core.memberships m
                where m.user_id = users_meta.id
                  and not m.is_deleted
                  and m.organization_id = any ((select core.current_user_org_ids())::uuid[])
            )
        )
    );

-- Users edit their own profile (names, avatar, timezone, locale; the email comes from the
-- identity provider and is not theirs to rewrite, since invitations trust it).
create policy "users update their own profile" on core.users_meta
    for update to app_user
    using (id = (select core.get_current_user_id()))
    with check (id = (select core.get_current_user_id()));

-- =============================================================================================
-- core.audit_logs
-- =============================================================================================
-- Members read their organization's audit trail; nobody writes it directly (triggers and
-- core.log_audit do).
create policy "members read their organization's audit log" on core.audit_logs
    for select to app_user
    using (organization_id = any ((select core.current_user_org_ids())::uuid[]));

-- =============================================================================================
-- platform.*
-- =============================================================================================
-- No policies: the runtime role app_user has no privilege on these tables and no usage on the
-- schema; the platform.* functions (SECURITY DEFINER) and service_role (BYPASSRLS) reach them.
