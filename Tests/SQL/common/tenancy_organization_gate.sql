-- An application table made tenant-safe with core.enable_tenancy('app.projects'): members see
-- and write their organizations' rows and nothing else; rows cannot be written into, or moved
-- to, an organization the caller is not in; other organizations' rows cannot be changed or
-- deleted; a soft-deleted membership or a deleted organization closes the gate for the very
-- next statement; and what a caller sees through the policies equals the same query filtered by
-- hand with the caller's live memberships.
begin;
select plan(27);
select tests.world();

-- Org C: team_a belongs to A and C.
select tests.remember('org_c', tests.create_org(tests.id('owner_b'), 'Org C'));
select tests.add_member(tests.id('org_c'), tests.id('team_a'), 'team');

create table app.projects (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid references core.organizations (id),
  name text not null unique
);
select core.enable_tenancy('app.projects');
grant select on app.projects to anon; -- a careless grant: the policies still decide

insert into app.projects (organization_id, name)
select tests.id(o), o || ' ' || n from unnest(array['org_a', 'org_b', 'org_c']) o, generate_series(1, 3) n;

-- The names of the projects the given user sees through the policies, in order.
create function pg_temp.seen_by(p_user uuid) returns text[]
language plpgsql as $$
declare
  v_names text[];
begin
  perform tests.authenticate_as(p_user);
  v_names := array(select name from app.projects order by name);
  perform tests.reset_identity();
  return v_names;
end
$$;

-- Where a project is now, read past RLS.
create function pg_temp.org_of(p_name text) returns uuid
language sql as $$ select organization_id from app.projects where name = p_name $$;

-- Reading
select is(pg_temp.seen_by(tests.id('member_a')), array['org_a 1', 'org_a 2', 'org_a 3'],
  'a member sees exactly their organization''s rows');
select is(pg_temp.seen_by(tests.id('team_a')), array['org_a 1', 'org_a 2', 'org_a 3', 'org_c 1', 'org_c 2', 'org_c 3'],
  'a member of two organizations sees the rows of both');
select is(pg_temp.seen_by(tests.id('owner_b')), array['org_b 1', 'org_b 2', 'org_b 3', 'org_c 1', 'org_c 2', 'org_c 3'],
  'another organization''s super_admin sees none of org A''s rows');
select is(pg_temp.seen_by(tests.id('stranger')), '{}'::text[], 'a user in no organization sees nothing');

select tests.authenticate_anon();
select tests.sees_nothing('select count(*) from app.projects', 'anon sees nothing, even with a SELECT grant');
select tests.reset_identity();
select set_config('role', 'authenticated', true);
select tests.sees_nothing('select count(*) from app.projects', 'authenticated without a user id sees nothing');
select tests.reset_identity();

-- Gated = filtered by hand, for every user of the fixture.
select is(
  pg_temp.seen_by(u.id),
  array(select p.name from app.projects p
        where p.organization_id in (
          select m.organization_id from core.memberships m join core.organizations o on o.id = m.organization_id
          where m.user_id = u.id and not m.is_deleted and not o.is_deleted)
        order by p.name),
  format('what %s sees through the policies equals the hand-filtered query', u.key))
from (select key, tests.id(key) as id
      from unnest(array['owner_a', 'manager_a', 'team_a', 'loner_a', 'owner_b', 'member_b', 'stranger']) key) u;

-- Writing into another organization
select tests.authenticate_as(tests.id('team_a'));
select tests.refused(format($$insert into app.projects (organization_id, name) values (%L, 'planted')$$, tests.id('org_b')),
  'inserting a row into another organization is refused', '{42501}');
select tests.refused($$insert into app.projects (organization_id, name) values (null, 'orphan')$$,
  'inserting a row without an organization is refused', '{42501}');
select tests.allowed(format($$insert into app.projects (organization_id, name) values (%L, 'mine') returning id$$, tests.id('org_a')),
  'inserting a row into one''s own organization is allowed (RETURNING included)');

select tests.refused(format($$update app.projects set organization_id = %L where name = 'org_a 1' returning id$$, tests.id('org_b')),
  'moving one''s row to another organization is refused', '{42501}');
select tests.allowed(format($$update app.projects set organization_id = %L where name = 'org_a 1' returning id$$, tests.id('org_c')),
  'moving a row between two organizations one belongs to is allowed');

-- Changing and deleting other organizations' rows: nothing happens.
update app.projects set name = 'org_b 1 (renamed)' where name = 'org_b 1';
delete from app.projects where organization_id = tests.id('org_b');
select tests.reset_identity();
select is((select count(*)::int from app.projects where organization_id = tests.id('org_b') and name like 'org_b _'), 3,
  'updating and deleting another organization''s rows changed none of them');
select is(pg_temp.org_of('org_a 1'), tests.id('org_a'), 'the refused move left the row where it was');
select is((select count(*)::int from app.projects where name in ('planted', 'orphan', 'mine')), 0,
  'refused and undone inserts left no row');

select tests.authenticate_as(tests.id('team_a'));
delete from app.projects where name = 'org_a 3';
select tests.reset_identity();
select is((select count(*)::int from app.projects where name = 'org_a 3'), 0,
  'a member deletes their organization''s row (the table has no soft-delete column)');

-- The gate closes at once: a soft-deleted membership
select is(pg_temp.seen_by(tests.id('member_a')), array['org_a 1', 'org_a 2'], 'member_a sees org A''s rows');
update core.memberships set is_deleted = true
  where user_id = tests.id('member_a') and organization_id = tests.id('org_a');
select is(pg_temp.seen_by(tests.id('member_a')), '{}'::text[],
  'once the membership is soft-deleted, the very next statement sees nothing');
select tests.authenticate_as(tests.id('member_a'));
select tests.refused(format($$insert into app.projects (organization_id, name) values (%L, 'after removal')$$, tests.id('org_a')),
  'and a removed member can no longer write', '{42501}');
select tests.reset_identity();
update core.memberships set is_deleted = false
  where user_id = tests.id('member_a') and organization_id = tests.id('org_a');
select is(pg_temp.seen_by(tests.id('member_a')), array['org_a 1', 'org_a 2'], 'restoring the membership opens it again');

-- ... and a deleted organization
update core.organizations set is_deleted = true where id = tests.id('org_c');
select is(pg_temp.seen_by(tests.id('team_a')), array['org_a 1', 'org_a 2'],
  'once org C is deleted, its rows disappear for its members in the next statement');

select * from finish();
rollback;
