-- Expiring memberships: a membership past its expires_at is absent for the gate at query time
-- (helpers, policies, app tables under enable_tenancy, the API), with no job run; the row
-- stays and is listed with its expiry; set_membership_expiry sets and clears it, for the
-- super_admin (organization memberships) and the super_admin and managers (unit memberships),
-- never in the past, never on the owner's membership; renewing must fit the seat limit; every
-- change is audited; no direct write reaches the column.
begin;
select plan(53);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('m_team', (select id from core.memberships where user_id = tests.id('team_a') and organization_id = tests.id('org_a')));
select tests.remember('m_owner', (select id from core.memberships where user_id = tests.id('owner_a') and organization_id = tests.id('org_a')));
select tests.remember('um_member', (select id from core.unit_memberships where user_id = tests.id('member_a') and unit_id = tests.id('unit_a1')));

create table app.expiry_notes (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references core.organizations (id),
  body text not null
);
select core.enable_tenancy('app.expiry_notes');
insert into app.expiry_notes (organization_id, body) values (tests.id('org_a'), 'a note of org A');

-- ---------------------------------------------------------------------------------------------
-- Setting an expiry: who may, and what is refused
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.set_membership_expiry(%L, now() + interval ''1 hour'')', tests.id('m_team')),
  'the super_admin sets a member''s expiry');
select is((select expires_at from public.list_organization_members(tests.id('org_a')) where user_id = tests.id('team_a')),
  now() + interval '1 hour', 'list_organization_members shows it');
select is((select membership_id from public.list_organization_members(tests.id('org_a')) where user_id = tests.id('team_a')),
  tests.id('m_team'), 'with the membership id set_membership_expiry takes');
select tests.authenticate_as(tests.id('team_a'));
select ok(tests.id('org_a') = any (core.current_user_org_ids()), 'before its expiry the membership counts');
select is((select count(*) from app.expiry_notes), 1::bigint, 'and the member sees the organization''s app rows');

select tests.reset_identity();
select is((select count(*) from core.audit_logs a where a.target_id = tests.id('m_team') and a.action = 'update'
           and a.metadata -> 'changed' ? 'expires_at' and a.actor_id = tests.id('owner_a')), 1::bigint,
  'the change is in the audit log, by its author');

select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format('select public.set_membership_expiry(%L, null)', tests.id('m_team')),
  'a manager may not set an organization membership''s expiry', '{42501}');
select tests.authenticate_as(tests.id('member_a'));
select tests.refused(format('select public.set_membership_expiry(%L, null)', tests.id('m_team')),
  'a team member may not either', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select public.set_membership_expiry(%L, null)', tests.id('m_team')),
  'another organization''s owner cannot find it', '{P0002}');
select tests.authenticate_as(tests.id('stranger'));
select tests.refused(format('select public.set_membership_expiry(%L, null)', tests.id('m_team')),
  'an outsider cannot find it', '{P0002}');
select tests.authenticate_anon();
select tests.refused(format('select public.set_membership_expiry(%L, null)', tests.id('m_team')),
  'a request without a user may not call it', '{42501}');
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select public.set_membership_expiry(%L, now() + interval ''1 day'')', tests.id('m_owner')),
  'the super_admin''s own membership never expires', '{42501}');
select tests.refused(format('select public.set_membership_expiry(%L, now() - interval ''1 second'')', tests.id('m_team')),
  'an expiry in the past is refused', '{22023}');
select tests.refused('select public.set_membership_expiry(null, null)', 'a missing id is refused', '{22023}');
select tests.refused(format('select public.set_membership_expiry(%L, null)', gen_random_uuid()),
  'an unknown id is not found', '{P0002}');
select tests.refused(format('update core.memberships set expires_at = null where id = %L', tests.id('m_team')),
  'no direct write reaches expires_at, not even the super_admin''s', '{42501}');
select tests.reset_identity();
select is((select expires_at from core.memberships where id = tests.id('m_team')), now() + interval '1 hour',
  'the refused calls left the expiry as it was');
select is((select expires_at from core.memberships where id = tests.id('m_owner')), null,
  'and the owner''s membership without one');
select throws_ok(format('update core.memberships set expires_at = now() + interval ''1 day'' where id = %L', tests.id('m_owner')),
  '23514', null, 'even the database refuses an expiring owner');

-- ---------------------------------------------------------------------------------------------
-- Expired: absent everywhere at once
-- ---------------------------------------------------------------------------------------------
update core.memberships set expires_at = now() - interval '1 second' where id = tests.id('m_team');
select tests.authenticate_as(tests.id('team_a'));
select ok(not tests.id('org_a') = any (core.current_user_org_ids()), 'an expired membership is not in the caller''s organizations');
select ok(not core.is_org_member(tests.id('org_a')), 'core.is_org_member says no');
select is(core.get_org_role(tests.id('org_a')), null, 'the caller has no role there');
select ok(not tests.id('unit_a1') = any (core.current_user_unit_ids()), 'the units of that organization are out of reach too');
select is((select count(*) from public.list_my_organizations() where id = tests.id('org_a')), 0::bigint,
  'list_my_organizations leaves it out');
select is((select count(*) from public.get_user_permissions(tests.id('org_a'))), 0::bigint, 'get_user_permissions gives nothing');
select is((select count(*) from public.list_organization_members(tests.id('org_a'))), 0::bigint, 'the member list is closed to them');
select tests.sees_nothing(format('select count(*) from public.get_organization(%L)', tests.id('org_a')), 'the organization is not theirs to read');
select tests.sees_nothing(format('select count(*) from core.organizations where id = %L', tests.id('org_a')), 'not even directly');
select tests.refused(format('select * from public.create_invitation(''friend@smta.test'', %L, %L)', tests.id('org_a'), tests.id('team_role')),
  'they cannot invite', '{42501}');
select is((select count(*) from app.expiry_notes), 0::bigint, 'an app table under enable_tenancy shows them nothing');
select tests.refused(format('insert into app.expiry_notes (organization_id, body) values (%L, ''late'')', tests.id('org_a')),
  'and takes no row from them', '{42501}');
select tests.reset_identity();
select is((select count(*) from app.expiry_notes), 1::bigint, 'the app table is as it was');

select tests.authenticate_as(tests.id('owner_a'));
select ok((select expires_at from public.list_organization_members(tests.id('org_a')) where user_id = tests.id('team_a')) < now(),
  'the owner still sees the expired member, with the past expiry');
select tests.refused(format('select public.transfer_super_admin(%L, %L)', tests.id('org_a'), tests.id('team_a')),
  'ownership is never handed to an expired member', '{P0002}');
select tests.reset_identity();
select is(tests.super_admins(tests.id('org_a')), array[tests.id('owner_a')], 'the owner is unchanged');

-- ---------------------------------------------------------------------------------------------
-- Seats: an expired membership frees its seat; renewing must fit
-- ---------------------------------------------------------------------------------------------
select set_config('tests.live', (select count(*) from core.memberships where organization_id = tests.id('org_a') and not is_deleted
                                  and (expires_at is null or expires_at > now()))::text, true);
select tests.authenticate_service_role();
select platform.set_platform_override(tests.id('org_a'), 'max_members', current_setting('tests.live')::jsonb);
select tests.authenticate_as(tests.id('owner_a'));
select throws_ok(format('select public.set_membership_expiry(%L, null)', tests.id('m_team')),
  'P0001', 'The organization has reached its seat limit of ' || current_setting('tests.live') || ' members',
  'renewing into a full organization is refused');
select tests.reset_identity();
select ok((select expires_at from core.memberships where id = tests.id('m_team')) < now(), 'the membership stays expired');
select tests.authenticate_service_role();
select platform.set_platform_override(tests.id('org_a'), 'max_members', (current_setting('tests.live')::int + 1)::text::jsonb);
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.set_membership_expiry(%L, null)', tests.id('m_team')), 'with a free seat it is renewed');
select tests.authenticate_as(tests.id('team_a'));
select ok(tests.id('org_a') = any (core.current_user_org_ids()), 'the renewed member is back at once');
select is((select count(*) from app.expiry_notes), 1::bigint, 'and sees the app rows again');

-- ---------------------------------------------------------------------------------------------
-- Unit memberships
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.id('member_a'));
select tests.refused(format('select public.set_membership_expiry(%L, now() + interval ''1 day'')', tests.id('um_member')),
  'a team member may not set their own unit membership''s expiry', '{42501}');
select tests.authenticate_as(tests.id('loner_a'));
select tests.refused(format('select public.set_membership_expiry(%L, now() + interval ''1 day'')', tests.id('um_member')),
  'nor may another team member', '{42501}');
select tests.authenticate_as(tests.id('manager_a'));
select lives_ok(format('select public.set_membership_expiry(%L, now() + interval ''1 day'')', tests.id('um_member')),
  'a manager sets a unit membership''s expiry');
select tests.reset_identity();
update core.unit_memberships set expires_at = now() - interval '1 second' where id = tests.id('um_member');
select tests.authenticate_as(tests.id('member_a'));
select ok(not tests.id('unit_a1') = any (core.current_user_unit_ids()), 'an expired unit membership no longer reaches the unit');
select ok(tests.id('org_a') = any (core.current_user_org_ids()), 'while the organization membership still counts');
select is(core.unit_membership_role_for(tests.id('unit_a1')), null, 'the caller has no role in the unit');
select tests.authenticate_as(tests.id('manager_a'));
select is((select count(*) from public.list_unit_members(tests.id('unit_a1')) where user_id = tests.id('member_a')), 0::bigint,
  'list_unit_members leaves the expired unit member out');
select lives_ok(format('select public.assign_user_to_unit(%L, %L, %L)', tests.id('member_a'), tests.id('unit_a1'), tests.id('team_role')),
  'assigning them again starts the unit membership afresh');
select tests.authenticate_as(tests.id('member_a'));
select ok(tests.id('unit_a1') = any (core.current_user_unit_ids()), 'and the unit is in reach again');

-- An expired organization membership takes its unit memberships with it, and cannot be given a
-- new one.
select tests.reset_identity();
update core.memberships set expires_at = now() - interval '1 second' where user_id = tests.id('member_a') and organization_id = tests.id('org_a');
select tests.authenticate_as(tests.id('member_a'));
select ok(not tests.id('unit_a1') = any (core.current_user_unit_ids()), 'a live unit membership of an expired member reaches nothing');
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select public.assign_user_to_unit(%L, %L, %L)', tests.id('member_a'), tests.id('unit_a2'), tests.id('team_role')),
  'an expired member cannot be assigned to a unit', '{P0001}');

-- Transfer: a member with a future expiry becomes an owner without one.
select public.set_membership_expiry(tests.id('m_team'), now() + interval '2 days');
select lives_ok(format('select public.transfer_super_admin(%L, %L)', tests.id('org_a'), tests.id('team_a')),
  'ownership goes to a live member with an expiry');
select tests.reset_identity();
select is((select expires_at from core.memberships where id = tests.id('m_team')), null, 'whose expiry is cleared: the owner''s never expires');

select * from finish();
rollback;
