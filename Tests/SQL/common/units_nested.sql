-- Nested units (create_unit's p_parent_unit_id): a unit may sit under another unit of the same
-- organization; never under another organization's unit, never under itself or its own
-- descendant (checked even for direct SQL by the table owner).
begin;
select plan(8);
select tests.world();

select tests.authenticate_as(tests.id('owner_a'));
select is((select count(*)::int from public.create_unit(tests.id('org_a'), 'Child', null, tests.id('unit_a1'))), 1,
  'a unit is created under a unit of the same organization');
select tests.reset_identity();
select tests.remember('child', (select (r ->> 'id')::uuid from tests.rows('core.units', '{"name": "Child"}') r));
select is(tests.row_json('core.units', tests.id('child')) ->> 'parent_unit_id', tests.id('unit_a1')::text,
  'the child records its parent');

select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format($$select count(*) from public.create_unit(%L, 'Smuggled', null, %L)$$, tests.id('org_a'), tests.id('unit_b1')),
  'a unit cannot be created under another organization''s unit', '{22023,P0002,42501,P0001}');
select tests.refused(format($$select count(*) from public.create_unit(%L, 'Orphan', null, %L)$$, tests.id('org_a'), gen_random_uuid()),
  'a unit cannot be created under a unit that does not exist', '{22023,P0002,42501}');
select is(tests.count_rows('core.units', '{"name": "Smuggled"}') + tests.count_rows('core.units', '{"name": "Orphan"}'), 0::bigint,
  'the refused units were not created');

-- Direct writes by the table owner still keep the tree sound.
select tests.reset_identity();
select throws_ok(format('update core.units set parent_unit_id = %L where id = %L', tests.id('unit_a1'), tests.id('unit_a1')),
  null::char(5), null::text, 'a unit cannot be its own parent');
select throws_ok(format('update core.units set parent_unit_id = %L where id = %L', tests.id('child'), tests.id('unit_a1')),
  null::char(5), null::text, 'a unit cannot be placed under its own descendant');
select throws_ok(format('update core.units set parent_unit_id = %L where id = %L', tests.id('unit_b1'), tests.id('unit_a2')),
  null::char(5), null::text, 'a unit cannot be placed under another organization''s unit');

select * from finish();
rollback;
