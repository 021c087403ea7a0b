-- SCIM provisioning, Groups (issue 18): a SCIM group is a unit of the token's organization that
-- SCIM created; its bound, active members are mirrored as unit members (team role) and its
-- pending ones become unit members when they bind. The Okta sequence: create users, group
-- them, rename the group, remove a member, deactivate one, delete the group. Another
-- organization's groups and users answer as unknown, and refusals change nothing.
begin;
select plan(41);
select tests.world();

insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_a'), 'Okta A', repeat('a', 64)) returning tests.remember('tok_a', id);
insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_b'), 'Okta B', repeat('b', 64)) returning tests.remember('tok_b', id);
select tests.remember('erin', tests.create_user('erin@corp.example', 'Erin', 'Bound'));
select tests.remember('finn', tests.create_user('finn@corp.example', 'Finn', 'Later'));

create function pg_temp.state() returns text
language sql security definer set search_path = '' as $$
  select md5(coalesce((select string_agg(g::text, ',' order by g.unit_id) from core.scim_groups g), '')
             || coalesce((select string_agg(m::text, ',' order by m.unit_id, m.scim_user_id) from core.scim_group_members m), '')
             || coalesce((select string_agg(u::text, ',' order by u.id) from core.units u), '')
             || coalesce((select string_agg(um::text, ',' order by um.id) from core.unit_memberships um), ''))
$$;
create temporary table before_state (v text) on commit drop;
grant all on before_state to public;
create function pg_temp.snap() returns void language sql as $$
  delete from before_state; insert into before_state select pg_temp.state();
$$;
create function pg_temp.unchanged() returns boolean language sql as $$
  select pg_temp.state() = (select v from before_state);
$$;

-- Users: erin bound (claims at once), finn pending; bob in org B.
select tests.authenticate_service_role();
select tests.remember('erin_scim', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "erin", "email": "erin@corp.example"}');
select tests.remember('finn_scim', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "finn", "email": "finn@corp.example"}');
select tests.remember('bob_scim', id) from platform.scim_create_user(tests.id('tok_b'), '{"user_name": "bob"}');
select tests.authenticate_verified(tests.id('erin'));
select is((select count(*) from public.claim_provisioned_memberships()), 1::bigint, 'erin binds and joins org A');

-- Create a group with both.
select tests.authenticate_service_role();
select tests.remember('eng', id) from platform.scim_create_group(tests.id('tok_a'), 'Engineering', 'okta-grp-1',
  array[tests.id('erin_scim'), tests.id('finn_scim')]);
select results_eq(
  format('select display_name, external_id, member_ids, version from platform.scim_get_group(%L, %L)', tests.id('tok_a'), tests.id('eng')),
  format($$values ('Engineering', 'okta-grp-1', %L::uuid[], 1)$$, (select array_agg(x order by x) from unnest(array[tests.id('erin_scim'), tests.id('finn_scim')]) x)),
  'the group lists both members, version 1');
select tests.reset_identity();
select is((select organization_id from core.units where id = tests.id('eng') and not is_deleted), tests.id('org_a'),
  'the group is a live unit of org A, with the same id');
select is((select name from core.units where id = tests.id('eng')), 'Engineering', 'named by displayName');
select is(tests.unit_membership_role(tests.id('eng'), tests.id('erin')), 'team', 'the bound member is a unit member (team)');
select is(tests.unit_membership_state(tests.id('eng'), tests.id('finn')), 'none', 'the pending one is not yet');
select is(ARRAY(select group_ids from core.scim_user_rows(tests.id('org_a')) where id = tests.id('erin_scim')),
  array[array[tests.id('eng')]], 'the user lists its group');

-- Finn signs in later: binding brings the unit membership along.
select tests.authenticate_verified(tests.id('finn'));
select is((select count(*) from public.claim_provisioned_memberships()), 1::bigint, 'finn binds');
select tests.reset_identity();
select is(tests.unit_membership_role(tests.id('eng'), tests.id('finn')), 'team', 'and is a member of the group''s unit at once');
select tests.authenticate_as(tests.id('finn'));
select ok(tests.id('eng') = any (core.current_user_unit_ids()), 'the gate lets finn into the unit');

-- Refusals: another organization's users and groups, unknown ids, a unit SCIM does not manage.
select tests.authenticate_service_role();
select pg_temp.snap();
select tests.refused(format('select * from platform.scim_add_group_members(%L, %L, %L)', tests.id('tok_a'), tests.id('eng'), array[tests.id('bob_scim')]),
  'another organization''s user cannot be added (not found)', '{P0002}');
select tests.refused(format('select * from platform.scim_add_group_members(%L, %L, %L)', tests.id('tok_a'), tests.id('eng'),
                            array[tests.id('erin_scim'), tests.id('bob_scim')]),
  'nor slipped in beside one of the organization''s own', '{P0002}');
select tests.refused(format('select * from platform.scim_remove_group_members(%L, %L, %L)', tests.id('tok_a'), tests.id('eng'), array[tests.id('bob_scim')]),
  'nor named for removal', '{P0002}');
select tests.refused(format('select * from platform.scim_create_group(%L, %L, null, %L)', tests.id('tok_a'), 'Mixed', array[tests.id('bob_scim')]),
  'a group is not created with another organization''s user', '{P0002}');
select tests.refused(format('select * from platform.scim_get_group(%L, %L)', tests.id('tok_b'), tests.id('eng')),
  'org B''s token cannot read org A''s group', '{P0002}');
select tests.refused(format($$select * from platform.scim_update_group(%L, %L, '{"display_name": "Taken"}')$$, tests.id('tok_b'), tests.id('eng')),
  'nor rename it', '{P0002}');
select tests.refused(format('select platform.scim_delete_group(%L, %L)', tests.id('tok_b'), tests.id('eng')),
  'nor delete it', '{P0002}');
select tests.refused(format('select * from platform.scim_get_group(%L, %L)', tests.id('tok_a'), tests.id('unit_a1')),
  'a unit the organization made itself is no SCIM group', '{P0002}');
select tests.refused(format($$select * from platform.scim_update_group(%L, %L, '{"display_name": "Hijacked"}')$$, tests.id('tok_a'), tests.id('unit_a1')),
  'and SCIM cannot rename it', '{P0002}');
select tests.refused(format('select * from platform.scim_create_group(%L, %L)', tests.id('tok_a'), '   '),
  'a group needs a name', '{22023}');
select tests.refused(format('select * from platform.scim_create_group(%L, %L)', tests.id('tok_a'), repeat('n', 256)),
  'of at most 255 characters', '{22001}');
select tests.refused(format('select * from platform.scim_create_group(%L, %L, %L)', tests.id('tok_a'), 'Dup', 'okta-grp-1'),
  'externalId is unique per organization', '{23505}');
select tests.refused(format($$select * from platform.scim_update_group(%L, %L, '{"members": []}')$$, tests.id('tok_a'), tests.id('eng')),
  'an unknown group attribute is refused', '{22023}');
select ok(pg_temp.unchanged(), 'no refused call changed a group, a unit or a unit membership');

-- Rename, remove a member, deactivate one.
select results_eq(
  format($$select display_name, version from platform.scim_update_group(%L, %L, '{"display_name": "Platform Engineering"}')$$,
         tests.id('tok_a'), tests.id('eng')),
  $$values ('Platform Engineering', 2)$$, 'the identity provider renames the group (new version)');
select tests.reset_identity();
select is((select name from core.units where id = tests.id('eng')), 'Platform Engineering', 'the unit is renamed');
select tests.authenticate_service_role();
select is((select member_ids from platform.scim_remove_group_members(tests.id('tok_a'), tests.id('eng'), array[tests.id('finn_scim')])),
  array[tests.id('erin_scim')], 'the identity provider removes finn from the group');
select tests.reset_identity();
select is(tests.unit_membership_state(tests.id('eng'), tests.id('finn')), 'deleted', 'finn''s unit membership ends');
select is(tests.membership_state(tests.id('org_a'), tests.id('finn')), 'live', 'finn stays a member of the organization');
select tests.authenticate_service_role();
select lives_ok(format($$select * from platform.scim_update_user(%L, %L, '{"active": false}')$$, tests.id('tok_a'), tests.id('erin_scim')),
  'the identity provider deactivates erin');
select tests.reset_identity();
select is(tests.unit_membership_state(tests.id('eng'), tests.id('erin')), 'deleted', 'erin''s unit membership ends with her membership');
select tests.authenticate_service_role();
select lives_ok(format($$select * from platform.scim_update_user(%L, %L, '{"active": true}')$$, tests.id('tok_a'), tests.id('erin_scim')),
  'and re-activates her');
select tests.reset_identity();
select is(tests.unit_membership_role(tests.id('eng'), tests.id('erin')), 'team', 'her group''s unit membership comes back with her');

-- PUT replaces the members; the group keeps its id.
select tests.authenticate_service_role();
select is((select member_ids from platform.scim_replace_group(tests.id('tok_a'), tests.id('eng'), 'Platform Engineering', 'okta-grp-1',
                                                              array[tests.id('finn_scim')], 3)),
  array[tests.id('finn_scim')], 'PUT sets exactly the members given');
select tests.reset_identity();
select ok(tests.unit_membership_state(tests.id('eng'), tests.id('erin')) = 'deleted'
          and tests.unit_membership_state(tests.id('eng'), tests.id('finn')) = 'live', 'the unit memberships follow');
select tests.authenticate_service_role();
select tests.refused(format('select * from platform.scim_replace_group(%L, %L, %L, null, null, 3)', tests.id('tok_a'), tests.id('eng'), 'Stale'),
  'a PUT on a stale version is refused', '{SC412}');

-- Delete the group.
select lives_ok(format('select platform.scim_delete_group(%L, %L)', tests.id('tok_a'), tests.id('eng')),
  'the identity provider deletes the group');
select tests.reset_identity();
select ok((select is_deleted from core.units where id = tests.id('eng')), 'its unit is soft-deleted, as delete_unit does');
select is(tests.unit_membership_state(tests.id('eng'), tests.id('finn')), 'deleted', 'with its unit memberships');
select is((select count(*) from core.scim_groups where unit_id = tests.id('eng')), 0::bigint, 'and it is no SCIM group any more');
select ok((select bool_and(a.actor_id = tests.id('tok_a') and a.metadata -> 'actor' ->> 'kind' = 'scim_token') from core.audit_logs a
           where a.organization_id = tests.id('org_a')
             and (a.target_table in ('core.scim_groups', 'core.scim_group_members')
                  or (a.target_table in ('core.units', 'core.unit_meta') and a.target_id = tests.id('eng')))),
  'every change of the group, its members and its unit is audited with the token');

select * from finish();
rollback;
