-- The unit-scoped variant, core.enable_tenancy('app.notes', 'org_id', 'unit_id'): a row without
-- a unit belongs to the whole organization; a row with a unit is seen and written only by that
-- unit's members (directly or through a unit above it) and by the organization's super_admin and
-- managers. A row's unit must be a unit of its organization. Removing someone from a unit, or
-- deleting the unit, closes the gate at once. The table is soft-deleted: no DELETE at all.
begin;
select plan(22);
select tests.world();

-- unit_a1 > unit_a1_sub; team_a and member_a belong to unit_a1, nobody to unit_a2 directly.
select tests.remember('unit_a1_sub', tests.create_unit(tests.id('org_a'), 'Unit A1 sub', tests.id('unit_a1')));

create table app.notes (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  unit_id uuid,
  body text not null unique,
  deleted_at timestamptz
);
select core.enable_tenancy('app.notes', 'org_id', 'unit_id');

insert into app.notes (org_id, unit_id, body) values
  (tests.id('org_a'), null, 'a: whole organization'),
  (tests.id('org_a'), tests.id('unit_a1'), 'a: unit 1'),
  (tests.id('org_a'), tests.id('unit_a1_sub'), 'a: unit 1 sub'),
  (tests.id('org_a'), tests.id('unit_a2'), 'a: unit 2'),
  (tests.id('org_b'), null, 'b: whole organization'),
  (tests.id('org_b'), tests.id('unit_b1'), 'b: unit 1');

-- The notes the given user sees through the policies, in order.
create function pg_temp.seen_by(p_user uuid) returns text[]
language plpgsql as $$
declare
  v_bodies text[];
begin
  perform tests.authenticate_as(p_user);
  v_bodies := array(select body from app.notes order by body);
  perform tests.reset_identity();
  return v_bodies;
end
$$;

-- Reading: each user's expected rows, listed by hand.
select is(pg_temp.seen_by(tests.id(u.key)), u.expected, format('%s sees %s', u.key, u.why))
from (values
  ('owner_a', array['a: unit 1', 'a: unit 1 sub', 'a: unit 2', 'a: whole organization'],
   'every row of org A (the super_admin reaches every unit)'),
  ('manager_a', array['a: unit 1', 'a: unit 1 sub', 'a: unit 2', 'a: whole organization'],
   'every row of org A (managers reach every unit)'),
  ('team_a', array['a: unit 1', 'a: unit 1 sub', 'a: whole organization'],
   'the organization''s rows, unit 1''s and, by inheritance, its sub-unit''s, not unit 2''s'),
  ('loner_a', array['a: whole organization'], 'only the rows without a unit'),
  ('owner_b', array['b: unit 1', 'b: whole organization'], 'org B''s rows only'),
  ('stranger', '{}'::text[], 'nothing')
) as u (key, expected, why);

-- Writing
select tests.authenticate_as(tests.id('team_a'));
select tests.allowed(format($$insert into app.notes (org_id, unit_id, body) values (%L, %L, 'new in unit 1') returning id$$,
                            tests.id('org_a'), tests.id('unit_a1')),
  'a unit member adds a row to their unit');
select tests.allowed(format($$insert into app.notes (org_id, unit_id, body) values (%L, null, 'new for all') returning id$$,
                            tests.id('org_a')),
  'a member adds an organization-wide row');
select tests.refused(format($$insert into app.notes (org_id, unit_id, body) values (%L, %L, 'into unit 2') returning id$$,
                            tests.id('org_a'), tests.id('unit_a2')),
  'a member may not add a row to a unit they are not in', '{42501}');
select tests.refused(format($$insert into app.notes (org_id, unit_id, body) values (%L, %L, 'into org B') returning id$$,
                            tests.id('org_b'), null),
  'a member may not add a row to another organization', '{42501}');
select tests.refused(format($$update app.notes set unit_id = %L where body = 'a: unit 1' returning id$$, tests.id('unit_a2')),
  'a member may not move a row into a unit they are not in', '{42501}');
select tests.refused(format($$update app.notes set org_id = %L, unit_id = null where body = 'a: unit 1' returning id$$, tests.id('org_b')),
  'a member may not move a row to another organization', '{42501}');
select tests.refused($$delete from app.notes where body = 'a: whole organization' returning id$$,
  'nobody deletes rows of a soft-deleted table', '{42501}');
select tests.allowed($$update app.notes set deleted_at = now() where body = 'a: unit 1' returning id$$,
  'a member soft-deletes a row of their unit with a plain UPDATE');

-- A unit of another organization is refused, even to the super_admin who reaches every unit.
select tests.authenticate_as(tests.id('owner_a'));
select tests.allowed(format($$insert into app.notes (org_id, unit_id, body) values (%L, %L, 'owner into unit 2') returning id$$,
                            tests.id('org_a'), tests.id('unit_a2')),
  'the super_admin adds a row to any unit of their organization');
select tests.refused(format($$insert into app.notes (org_id, unit_id, body) values (%L, %L, 'unit of B under A') returning id$$,
                            tests.id('org_a'), tests.id('unit_b1')),
  'a row of org A may not carry a unit of org B', '{42501}');
select tests.refused(format($$update app.notes set unit_id = %L where body = 'a: unit 2' returning id$$, tests.id('unit_b1')),
  'nor be moved to one', '{42501}');

-- Other units' rows cannot be changed.
select tests.authenticate_as(tests.id('team_a'));
update app.notes set body = 'a: unit 2 (changed)' where body = 'a: unit 2';
select tests.reset_identity();
select is((select count(*)::int from app.notes where body = 'a: unit 2'), 1, 'a member''s UPDATE of another unit''s row changed nothing');
select is((select count(*)::int from app.notes where body in ('into unit 2', 'into org B', 'unit of B under A')), 0,
  'no refused row was written');

-- The gate closes at once when the unit membership goes ...
update core.unit_memberships set is_deleted = true where user_id = tests.id('team_a') and unit_id = tests.id('unit_a1');
select is(pg_temp.seen_by(tests.id('team_a')), array['a: whole organization'],
  'once removed from unit 1, the next statement sees neither unit 1''s rows nor its sub-unit''s');
update core.unit_memberships set is_deleted = false where user_id = tests.id('team_a') and unit_id = tests.id('unit_a1');

-- ... when the unit is deleted ...
update core.units set is_deleted = true where id = tests.id('unit_a1');
select is(pg_temp.seen_by(tests.id('team_a')), array['a: whole organization'],
  'once unit 1 is deleted, its rows and its sub-unit''s are closed to its members');
update core.units set is_deleted = false where id = tests.id('unit_a1');

-- ... and when the organization membership goes (unit membership or not).
update core.memberships set is_deleted = true where user_id = tests.id('team_a') and organization_id = tests.id('org_a');
select is(pg_temp.seen_by(tests.id('team_a')), '{}'::text[],
  'a member removed from the organization sees none of its rows, their unit''s included');

select * from finish();
rollback;
