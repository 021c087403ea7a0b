-- transfer_super_admin: only the current super_admin hands ownership to another live member;
-- the organization always keeps exactly one live super_admin; refused transfers change nothing.
begin;
select plan(15);
select tests.world();

select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format('select public.transfer_super_admin(%L, %L)', tests.id('org_a'), tests.id('manager_a')),
  'a manager may not take ownership', '{42501}');
select tests.authenticate_as(tests.id('team_a'));
select tests.refused(format('select public.transfer_super_admin(%L, %L)', tests.id('org_a'), tests.id('team_a')),
  'a team member may not take ownership', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select public.transfer_super_admin(%L, %L)', tests.id('org_a'), tests.id('owner_b')),
  'another organization''s super_admin may not take ownership');
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select public.transfer_super_admin(%L, %L)', tests.id('org_a'), tests.id('stranger')),
  'ownership cannot go to a user who is not a member', '{P0002,22023,P0001}');
select tests.refused(format('select public.transfer_super_admin(%L, %L)', tests.id('org_a'), tests.id('owner_b')),
  'ownership cannot go to a member of another organization', '{P0002,22023,P0001}');
select tests.refused(format('select public.transfer_super_admin(%L, %L)', tests.id('org_a'), tests.id('owner_a')),
  'ownership cannot be transferred to oneself', '{22023,P0001}');

select tests.reset_identity();
update core.memberships set is_deleted = true, deleted_at = now()
 where organization_id = tests.id('org_a') and user_id = tests.id('loner_a');
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select public.transfer_super_admin(%L, %L)', tests.id('org_a'), tests.id('loner_a')),
  'ownership cannot go to a removed member', '{P0002,22023,P0001}');
select is(tests.super_admins(tests.id('org_a')), array[tests.id('owner_a')],
  'refused transfers left the owner as the only super_admin');

select lives_ok(format('select public.transfer_super_admin(%L, %L)', tests.id('org_a'), tests.id('team_a')),
  'the super_admin transfers ownership to a member');
select is(tests.super_admins(tests.id('org_a')), array[tests.id('team_a')],
  'the new owner is the only live super_admin');
select is(tests.membership_state(tests.id('org_a'), tests.id('owner_a')), 'live',
  'the former owner stays a member');
select tests.refused(format('select public.transfer_super_admin(%L, %L)', tests.id('org_a'), tests.id('manager_a')),
  'the former owner can no longer transfer ownership', '{42501}');

select tests.authenticate_as(tests.id('team_a'));
select is(core.is_super_admin(tests.id('org_a')), true,
  'core.is_super_admin is true for the new owner');
select lives_ok(format('select public.transfer_super_admin(%L, %L)', tests.id('org_a'), tests.id('owner_a')),
  'the new owner can transfer ownership back');
select is(tests.super_admins(tests.id('org_a')), array[tests.id('owner_a')],
  'after the round trip the original owner is again the only super_admin');

select tests.reset_identity();
select * from finish();
rollback;
