-- create_organization: any signed-in user creates an organization and becomes its super_admin;
-- the organization gets its meta row and its platform registry row; bad names change nothing.
begin;
select plan(12);
select tests.world();

select tests.authenticate_as(tests.id('stranger'));

select is(
  (select count(*)::int from public.create_organization('Acme Pizza', 'Pizza everywhere')),
  1,
  'create_organization returns the new organization');

select tests.reset_identity();
select tests.remember('acme', (select (r ->> 'id')::uuid from tests.rows('core.organizations', '{"name": "Acme Pizza"}') r));

select isnt(tests.id('acme'), null, 'the organization row exists');
select is(tests.row_json('core.organizations', tests.id('acme')) ->> 'created_by', tests.id('stranger')::text,
  'its creator is recorded in created_by');
select is(tests.row_json('core.organizations', tests.id('acme')) ->> 'description', 'Pizza everywhere',
  'its description is stored');
select isnt(tests.row_json('core.organizations_meta', tests.id('acme')), null,
  'its organizations_meta row was created');
select is(tests.count_rows('platform.platform_organizations', jsonb_build_object('id', tests.id('acme'))), 1::bigint,
  'its platform.platform_organizations row was created with the same id');
select is(tests.super_admins(tests.id('acme')), array[tests.id('stranger')],
  'the creator is its only live super_admin');
select is(tests.membership_role(tests.id('acme'), tests.id('stranger')), 'super_admin',
  'the creator''s membership has the super_admin role');

select tests.authenticate_as(tests.id('stranger'));
select results_eq(
  'select id, name, role from public.list_my_organizations()',
  format($$values (%L::uuid, 'Acme Pizza', 'super_admin')$$, tests.id('acme')),
  'the new organization is listed for its creator with role super_admin');

select tests.refused($$select count(*) from public.create_organization('')$$,
  'an empty name is refused as invalid input', '{22023}');
select tests.refused($$select count(*) from public.create_organization('   ')$$,
  'a blank name is refused as invalid input', '{22023}');
select tests.refused($$select count(*) from public.create_organization(null)$$,
  'a NULL name is refused as invalid input', '{22023}');

select tests.reset_identity();
select * from finish();
rollback;
