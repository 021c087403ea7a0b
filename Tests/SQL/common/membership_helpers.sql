-- The membership helpers app policies call (core.is_org_member & co.): true for the caller's
-- live memberships, false for other organizations, for removed members and for deleted
-- organizations and units; callable by authenticated.
begin;
select plan(26);
select tests.world();

select is_empty(
  $$select p from unnest(array['core.is_super_admin(uuid)', 'core.is_org_member(uuid)', 'core.is_unit_member(uuid)',
      'core.is_org_super_admin_for_unit(uuid)', 'core.is_org_member_for_unit(uuid)', 'core.get_org_role(uuid)',
      'core.get_org_id_for_unit(uuid)', 'core.has_org_role(uuid, text)', 'core.has_unit_role(uuid, text)',
      'core.shares_organization(uuid)']) p
    where not has_function_privilege('authenticated', p, 'EXECUTE')$$,
  'authenticated may call every membership helper');

select tests.authenticate_as(tests.id('team_a'));
select ok(core.is_org_member(tests.id('org_a')), 'is_org_member: true in the caller''s organization');
select ok(not core.is_org_member(tests.id('org_b')), 'is_org_member: false in another organization');
select ok(not core.is_super_admin(tests.id('org_a')), 'is_super_admin: false for a team member');
select is(core.get_org_role(tests.id('org_a')), 'team', 'get_org_role: the caller''s role');
select is(core.get_org_role(tests.id('org_b')), null, 'get_org_role: null in another organization');
select ok(core.has_org_role(tests.id('org_a'), 'team'), 'has_org_role: true for the caller''s role');
select ok(not core.has_org_role(tests.id('org_a'), 'manager'), 'has_org_role: false for another role');
select ok(core.is_unit_member(tests.id('unit_a1')), 'is_unit_member: true in the caller''s unit');
select ok(not core.is_unit_member(tests.id('unit_b1')), 'is_unit_member: false in another organization''s unit');
select ok(core.is_org_member_for_unit(tests.id('unit_a2')), 'is_org_member_for_unit: true for any unit of the caller''s organization');
select ok(not core.is_org_member_for_unit(tests.id('unit_b1')), 'is_org_member_for_unit: false for another organization''s unit');
select ok(not core.is_org_super_admin_for_unit(tests.id('unit_a1')), 'is_org_super_admin_for_unit: false for a team member');
select ok(core.has_unit_role(tests.id('unit_a1'), 'team'), 'has_unit_role: true for the caller''s unit role');
select is(core.get_org_id_for_unit(tests.id('unit_a1')), tests.id('org_a'), 'get_org_id_for_unit: the unit''s organization');
select ok(core.shares_organization(tests.id('member_a')), 'shares_organization: true for a colleague');
select ok(not core.shares_organization(tests.id('owner_b')), 'shares_organization: false for a member of another organization');

select tests.authenticate_as(tests.id('owner_a'));
select ok(core.is_super_admin(tests.id('org_a')), 'is_super_admin: true for the owner');
select ok(core.is_org_super_admin_for_unit(tests.id('unit_a2')), 'is_org_super_admin_for_unit: true for the owner, any unit');
select ok(not core.is_super_admin(tests.id('org_b')), 'is_super_admin: false in another organization');

-- Removed members, deleted units and deleted organizations close the gate at once.
select tests.reset_identity();
update core.memberships set is_deleted = true, deleted_at = now()
 where organization_id = tests.id('org_a') and user_id = tests.id('member_a');
update core.units set is_deleted = true, deleted_at = now() where id = tests.id('unit_a1');
select tests.authenticate_as(tests.id('member_a'));
select ok(not core.is_org_member(tests.id('org_a')), 'is_org_member: false once the membership is removed');
select ok(not core.shares_organization(tests.id('team_a')), 'shares_organization: false once the membership is removed');
select tests.authenticate_as(tests.id('team_a'));
select ok(not core.is_unit_member(tests.id('unit_a1')), 'is_unit_member: false once the unit is deleted');
select tests.reset_identity();
update core.organizations set is_deleted = true, deleted_at = now() where id = tests.id('org_a');
select tests.authenticate_as(tests.id('owner_a'));
select ok(not core.is_org_member(tests.id('org_a')), 'is_org_member: false once the organization is deleted');
select ok(not core.is_super_admin(tests.id('org_a')), 'is_super_admin: false once the organization is deleted');

select tests.authenticate_anon();
select tests.refused(format('select core.is_org_member(%L)', tests.id('org_a')), 'anon cannot call the helpers', '{42501}');

select tests.reset_identity();
select * from finish();
rollback;
