-- leave_organization: a member leaves (their membership and their unit memberships in that
-- organization are soft-deleted); the super_admin is refused until ownership is transferred;
-- a non-member cannot "leave".
begin;
select plan(11);
select tests.world();

select tests.authenticate_as(tests.id('team_a'));
select lives_ok(format('select public.leave_organization(%L)', tests.id('org_a')), 'a team member leaves the organization');
select is(tests.membership_state(tests.id('org_a'), tests.id('team_a')), 'deleted', 'their membership is soft-deleted');
select is(tests.unit_membership_state(tests.id('unit_a1'), tests.id('team_a')), 'deleted', 'their unit membership in that organization is soft-deleted too');
select is(tests.unit_membership_state(tests.id('unit_a1'), tests.id('member_a')), 'live', 'other members'' unit memberships are untouched');
select is_empty('select 1 from public.list_my_organizations()', 'the organization is gone from their list');
select tests.refused(format('select public.leave_organization(%L)', tests.id('org_a')),
  'leaving again is refused', '{P0002,42501}');

select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select public.leave_organization(%L)', tests.id('org_a')),
  'the super_admin may not leave before transferring ownership', '{P0001,42501}');
select is(tests.super_admins(tests.id('org_a')), array[tests.id('owner_a')], 'the refused leave kept the super_admin');
select lives_ok(format('select public.transfer_super_admin(%L, %L)', tests.id('org_a'), tests.id('manager_a')),
  'the super_admin transfers ownership');
select lives_ok(format('select public.leave_organization(%L)', tests.id('org_a')), 'the former super_admin may now leave');

select tests.authenticate_as(tests.id('stranger'));
select tests.refused(format('select public.leave_organization(%L)', tests.id('org_a')),
  'a user who is not a member cannot leave', '{P0002,42501}');

select tests.reset_identity();
select * from finish();
rollback;
