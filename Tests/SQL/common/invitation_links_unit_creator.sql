-- Invitation links into a unit follow their creator's reach (0121): a link a unit member made
-- into their unit (or a unit below it) admits nobody once they are out of the unit — removed,
-- or their unit membership expired — and works again when they are back; a manager's unit link
-- stops when they stop managing the organization. Each refusal checks that nobody was added.
begin;
select plan(16);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('child_a1', tests.create_unit(tests.id('org_a'), 'Child of A1', tests.id('unit_a1')));
select tests.remember('joiner', tests.create_user('joiner@smta.test'));
select tests.remember('joiner2', tests.create_user('joiner2@smta.test'));

-- team_a, a team member of unit_a1, links into unit_a1 and into the unit below it.
select tests.authenticate_as(tests.id('team_a'));
select set_config('tests.tok_unit', r.token, true), tests.remember('lnk_unit', r.id)
  from public.create_invitation_link(tests.id('org_a'), tests.id('team_role'), p_unit_id => tests.id('unit_a1')) r;
select set_config('tests.tok_child', r.token, true), tests.remember('lnk_child', r.id)
  from public.create_invitation_link(tests.id('org_a'), tests.id('team_role'), p_unit_id => tests.id('child_a1')) r;
-- manager_a, in no unit_a2, links into it.
select tests.authenticate_as(tests.id('manager_a'));
select set_config('tests.tok_mgr_unit', r.token, true), tests.remember('lnk_mgr_unit', r.id)
  from public.create_invitation_link(tests.id('org_a'), tests.id('team_role'), p_unit_id => tests.id('unit_a2')) r;

create function pg_temp.status(p_link text) returns text language sql as $$
  select status from public.list_invitation_links(tests.id('org_a')) where id = tests.id(p_link)
$$;

select tests.authenticate_as(tests.id('owner_a'));
select is(pg_temp.status('lnk_unit'), 'active', 'a unit member''s link into their unit is active');
select is(pg_temp.status('lnk_child'), 'active', 'and into a unit below it');
select is(pg_temp.status('lnk_mgr_unit'), 'active', 'a manager''s link into a unit they are not in is active');

-- team_a leaves unit_a1 (still a member of the organization).
select tests.reset_identity();
update core.unit_memberships set is_deleted = true
  where user_id = tests.id('team_a') and unit_id = tests.id('unit_a1');
select tests.authenticate_as(tests.id('owner_a'));
select is(pg_temp.status('lnk_unit'), 'inactive', 'out of the unit, their link into it is inactive');
select is(pg_temp.status('lnk_child'), 'inactive', 'and their link into the unit below it');
select tests.authenticate_as(tests.id('joiner'));
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_unit')),
  'the link of a creator who left the unit admits nobody', '{P0001}');
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_child')),
  'nor into the unit below', '{P0001}');
select tests.reset_identity();
select is(tests.membership_state(tests.id('org_a'), tests.id('joiner')), 'none', 'joiner joined nothing');
select is(tests.unit_membership_state(tests.id('unit_a1'), tests.id('joiner')), 'none', 'nor the unit');

-- An expired unit membership counts as out.
update core.unit_memberships set is_deleted = false, expires_at = now() - interval '1 minute'
  where user_id = tests.id('team_a') and unit_id = tests.id('unit_a1');
select tests.authenticate_as(tests.id('owner_a'));
select is(pg_temp.status('lnk_unit'), 'inactive', 'an expired unit membership leaves the link inactive');

-- Back in the unit: the link works again.
select tests.reset_identity();
update core.unit_memberships set expires_at = null
  where user_id = tests.id('team_a') and unit_id = tests.id('unit_a1');
select tests.authenticate_as(tests.id('joiner'));
select results_eq(format('select unit_id from public.accept_invitation_link(%L)', current_setting('tests.tok_child')),
  format($$values (%L::uuid)$$, tests.id('child_a1')), 'back in the unit, its creator''s link admits again');
select tests.reset_identity();
select is(tests.unit_membership_state(tests.id('child_a1'), tests.id('joiner')), 'live', 'joiner is in the unit below');

-- The manager demoted to team: no longer managing, in no unit_a2.
update core.memberships set role_id = tests.id('team_role')
  where user_id = tests.id('manager_a') and organization_id = tests.id('org_a');
select tests.authenticate_as(tests.id('owner_a'));
select is(pg_temp.status('lnk_mgr_unit'), 'inactive', 'a demoted manager''s link into a unit they are not in is inactive');
select tests.authenticate_as(tests.id('joiner2'));
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_mgr_unit')),
  'and admits nobody', '{P0001}');
select tests.reset_identity();
select is(tests.membership_state(tests.id('org_a'), tests.id('joiner2')), 'none', 'joiner2 joined nothing');
select is(tests.unit_membership_state(tests.id('unit_a2'), tests.id('joiner2')), 'none', 'nor unit_a2');

select * from finish();
rollback;
