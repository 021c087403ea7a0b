-- Policies from both sides, by direct SELECT on every core table: a member of org A sees org
-- A's rows; a member of another organization and a user in no organization see none of them.
-- Generated: one case per table, each checked as member, outsider and stranger.
begin;
select plan(33);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));

-- Rows of org A in every table that can hold them.
select tests.authenticate_as(tests.id('owner_a'));
select count(*) from public.create_role(tests.id('org_a'), 'org_a_only_role');
select count(*) from public.create_invitation('invited@smta.test', tests.id('org_a'), tests.id('team_role'));
select tests.reset_identity();

create temporary table cases (table_name text, filter text) on commit drop;
insert into cases values
  ('core.organizations', format('id = %L', tests.id('org_a'))),
  ('core.organizations_meta', format('id = %L', tests.id('org_a'))),
  ('core.units', format('organization_id = %L', tests.id('org_a'))),
  ('core.unit_meta', format('id = %L', tests.id('unit_a1'))),
  ('core.memberships', format('organization_id = %L', tests.id('org_a'))),
  ('core.unit_memberships', format('unit_id = %L', tests.id('unit_a1'))),
  ('core.invitations', format('organization_id = %L', tests.id('org_a'))),
  ('core.organization_files', format('organization_id = %L', tests.id('org_a'))),
  ('core.audit_logs', format('organization_id = %L', tests.id('org_a'))),
  ('core.roles', format('organization_id = %L', tests.id('org_a'))),
  ('core.users_meta', format('id = %L', tests.id('member_a')));
grant select on cases to public;

select tests.authenticate_as(tests.id('team_a'));
select tests.sees_something(format('select count(*) from %s where %s', c.table_name, c.filter),
  format('a member sees org A''s rows of %s', c.table_name))
from cases c order by c.table_name;

select tests.authenticate_as(tests.id('owner_b'));
select tests.sees_nothing(format('select count(*) from %s where %s', c.table_name, c.filter),
  format('another organization''s super_admin sees none of org A''s rows of %s', c.table_name))
from cases c order by c.table_name;

select tests.authenticate_as(tests.id('stranger'));
select tests.sees_nothing(format('select count(*) from %s where %s', c.table_name, c.filter),
  format('a user in no organization sees none of org A''s rows of %s', c.table_name))
from cases c order by c.table_name;

select tests.reset_identity();
select * from finish();
rollback;
