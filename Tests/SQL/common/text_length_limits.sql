-- Text length limits (0095): names of organizations and units and a profile's names are 1–255
-- characters, role names 1–100, descriptions up to 10,000, an address up to 1,000, time zones and
-- locales up to 64 — counted in characters, not bytes — through the API and through a direct
-- write alike; a refused write changes nothing.
begin;
select plan(18);
select tests.world();

select tests.authenticate_as(tests.id('owner_a'));
select tests.refused($$select count(*) from public.create_organization(repeat('n', 5000))$$,
  'a 5,000-character organization name is refused', '{23514}');
select tests.refused($$select count(*) from public.create_organization(repeat('n', 256))$$,
  'a 256-character organization name is refused', '{23514}');
select tests.allowed($$select count(*) from public.create_organization(repeat('n', 255))$$,
  'a 255-character organization name is accepted');
select tests.allowed($$select count(*) from public.create_organization(repeat('é', 255))$$,
  'the limit counts characters: 255 two-byte characters are accepted');
select tests.refused($$select count(*) from public.create_organization('Acme', repeat('d', 10001))$$,
  'a 10,001-character organization description is refused', '{23514}');
select tests.allowed($$select count(*) from public.create_organization('Acme', repeat('d', 10000))$$,
  'a 10,000-character organization description is accepted');

select tests.refused(format($$select count(*) from public.update_organization(%L, repeat('n', 256))$$, tests.id('org_a')),
  'renaming an organization to 256 characters is refused', '{23514}');
select tests.refused(format($$update core.organizations set name = repeat('n', 256) where id = %L$$, tests.id('org_a')),
  'a direct update of the name past the limit is refused too', '{23514}');
select tests.reset_identity();
select is(tests.row_json('core.organizations', tests.id('org_a')) ->> 'name', 'Org A',
  'the refused renames left the name as it was');

select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format($$select count(*) from public.create_unit(%L, repeat('u', 256))$$, tests.id('org_a')),
  'a 256-character unit name is refused', '{23514}');
select tests.refused(format($$select count(*) from public.create_unit(%L, 'Kitchen', repeat('d', 10001))$$, tests.id('org_a')),
  'a 10,001-character unit description is refused', '{23514}');
select tests.allowed(format($$select count(*) from public.create_unit(%L, repeat('u', 255))$$, tests.id('org_a')),
  'a 255-character unit name is accepted');
select tests.refused(format($$select count(*) from public.create_role(%L, repeat('r', 101))$$, tests.id('org_a')),
  'a 101-character role name is refused', '{22023,23514}');
select tests.refused(format($$select count(*) from public.update_organization_meta(%L, p_address => repeat('a', 1001))$$, tests.id('org_a')),
  'a 1,001-character address is refused', '{23514}');
select tests.refused(format($$select count(*) from public.update_organization_meta(%L, p_timezone => repeat('t', 65))$$, tests.id('org_a')),
  'a 65-character time zone is refused', '{23514}');
select tests.refused($$select count(*) from public.update_user_profile(repeat('f', 256), 'Last')$$,
  'a 256-character first name is refused', '{23514}');
select tests.allowed($$select count(*) from public.update_user_profile(repeat('f', 255), 'Last')$$,
  'a 255-character first name is accepted');

select tests.reset_identity();
select bag_eq(
  $$select conname::text from pg_catalog.pg_constraint
    where connamespace = 'core'::regnamespace and conname like '%\_at\_most\_%\_characters'$$,
  $$values ('organizations_name_at_most_255_characters'), ('organizations_description_at_most_10000_characters'),
           ('units_name_at_most_255_characters'), ('units_description_at_most_10000_characters'),
           ('roles_name_at_most_100_characters'), ('roles_description_at_most_10000_characters'),
           ('organizations_meta_address_at_most_1000_characters'),
           ('organizations_meta_timezone_at_most_64_characters'), ('organizations_meta_locale_at_most_64_characters'),
           ('unit_meta_notes_at_most_10000_characters'),
           ('users_meta_first_name_at_most_255_characters'), ('users_meta_last_name_at_most_255_characters'),
           ('users_meta_timezone_at_most_64_characters'), ('users_meta_locale_at_most_64_characters')$$,
  'each limit is a constraint whose name says it');

select * from finish();
rollback;
