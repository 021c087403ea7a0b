-- Reading organizations: list_my_organizations, get_user_organizations, get_organization,
-- get_user_role, get_user_permissions, list_organization_members — members see their own
-- organization, outsiders see nothing of it.
begin;
select plan(18);
select tests.world();

select tests.authenticate_as(tests.id('team_a'));

select results_eq(
  'select id, name, role, role_label from public.list_my_organizations()',
  format($$select %L::uuid, 'Org A', 'team', description from core.roles where name = 'team'$$, tests.id('org_a')),
  'list_my_organizations lists exactly the caller''s organization, role and role label');
select results_eq(
  'select id, name, description, role, role_label from public.get_user_organizations()',
  'select id, name, description, role, role_label from public.list_my_organizations()',
  'get_user_organizations returns what list_my_organizations returns');
select results_eq(
  format('select id, name, is_deleted from public.get_organization(%L)', tests.id('org_a')),
  format($$values (%L::uuid, 'Org A', false)$$, tests.id('org_a')),
  'a member gets their organization from get_organization');
select is(public.get_user_role(tests.id('org_a')), 'team', 'get_user_role gives a team member ''team''');
select results_eq(
  format('select role_name, casl_rules from public.get_user_permissions(%L)', tests.id('org_a')),
  $$select name, casl_rules from core.roles where name = 'team'$$,
  'get_user_permissions gives the member''s role and its CASL rules');
select is(
  (select count(*)::int from public.list_organization_members(tests.id('org_a'))), 5,
  'list_organization_members lists the organization''s 5 members');
select results_eq(
  format('select user_id, email, role, is_super_admin from public.list_organization_members(%L) where is_super_admin', tests.id('org_a')),
  format($$values (%L::uuid, 'owner.a@smta.test', 'super_admin', true)$$, tests.id('owner_a')),
  'list_organization_members shows the super_admin with email, role and flag');

select tests.sees_nothing(format('select count(*) from public.get_organization(%L)', tests.id('org_b')),
  'an outsider gets nothing from get_organization');
select tests.sees_nothing(format('select count(*) from (select public.get_user_role(%L) r) q where r is not null', tests.id('org_b')),
  'an outsider has no role from get_user_role');
select tests.sees_nothing(format('select count(*) from public.get_user_permissions(%L)', tests.id('org_b')),
  'an outsider gets no permissions from get_user_permissions');
select tests.sees_nothing(format('select count(*) from public.list_organization_members(%L)', tests.id('org_b')),
  'an outsider sees no members of another organization');
select tests.sees_nothing(format('select count(*) from public.get_organization(%L)', gen_random_uuid()),
  'get_organization of an id that does not exist returns nothing');

select tests.authenticate_as(tests.id('manager_a'));
select is(public.get_user_role(tests.id('org_a')), 'manager', 'get_user_role gives a manager ''manager''');
select tests.authenticate_as(tests.id('owner_a'));
select is(public.get_user_role(tests.id('org_a')), 'super_admin', 'get_user_role gives the owner ''super_admin''');

select tests.authenticate_as(tests.id('stranger'));
select is_empty('select * from public.list_my_organizations()', 'a user in no organization lists none');
select is_empty('select * from public.get_user_organizations()', 'a user in no organization has none');
select tests.sees_nothing(format('select count(*) from public.get_organization(%L)', tests.id('org_a')),
  'a user in no organization gets nothing from get_organization');

-- A removed member loses sight at once.
select tests.reset_identity();
update core.memberships set is_deleted = true, deleted_at = now()
 where organization_id = tests.id('org_a') and user_id = tests.id('loner_a');
select tests.authenticate_as(tests.id('loner_a'));
select tests.sees_nothing(format('select count(*) from public.get_organization(%L)', tests.id('org_a')),
  'a removed member gets nothing from get_organization');

select tests.reset_identity();
select * from finish();
rollback;
