-- get_access_history: one user's access to an organization over time, read from the audit log
-- — joined, role changes, ownership, expiry, left or removed, restored, and unit memberships —
-- for the organization's super_admin and managers only; everyone else is refused the same way
-- whether or not the organization exists.
begin;
select plan(14);
select tests.world();
select tests.remember('guest', tests.create_user('guest@smta.test'));
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('manager_role', tests.role_id('manager'));

-- The guest's story in org A, through the API.
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.tok', token, true) from public.create_invitation_link(tests.id('org_a'), tests.id('team_role'));
select tests.authenticate_as(tests.id('guest'));
select count(*) from public.accept_invitation_link(current_setting('tests.tok'));
select tests.authenticate_as(tests.id('owner_a'));
select public.update_member_role(tests.id('org_a'), tests.id('guest'), tests.id('manager_role'));
select public.set_membership_expiry(m.id, '2999-01-01T00:00:00Z') from core.memberships m
  where m.user_id = tests.id('guest') and m.organization_id = tests.id('org_a');
select public.assign_user_to_unit(tests.id('guest'), tests.id('unit_a2'), tests.id('team_role'));
select public.set_membership_expiry(m.id, null) from core.memberships m
  where m.user_id = tests.id('guest') and m.organization_id = tests.id('org_a');
select public.remove_member_from_organization(tests.id('org_a'), tests.id('guest'));
select public.add_member_to_organization(tests.id('org_a'), tests.id('guest'), tests.id('team_role'));
select public.transfer_super_admin(tests.id('org_a'), tests.id('guest'));
select tests.authenticate_as(tests.id('owner_a'));

-- Read by the new owner (the guest) and by a manager.
select tests.authenticate_as(tests.id('manager_a'));
select results_eq(
  format($$select event, unit_id, role_name, previous_role_name, expires_at from public.get_access_history(%L, %L)$$,
         tests.id('org_a'), tests.id('guest')),
  format($$values ('joined', null::uuid, 'team', null::text, null::timestamptz),
                  ('role_changed', null, 'manager', 'team', null),
                  ('expiry_set', null, null, null, '2999-01-01T00:00:00Z'::timestamptz),
                  ('joined', %L::uuid, 'team', null, null),
                  ('expiry_cleared', null, null, null, null),
                  ('removed', %L::uuid, null, null, null),
                  ('removed', null, null, null, null),
                  ('restored', null, null, null, null),
                  ('role_changed', null, 'team', 'manager', null),
                  ('became_owner', null, null, null, null),
                  ('role_changed', null, 'super_admin', 'team', null)$$,
         tests.id('unit_a2'), tests.id('unit_a2')),
  'a manager reads the guest''s whole story, in order');
select is((select array_agg(distinct actor_id) from public.get_access_history(tests.id('org_a'), tests.id('guest'))
           where event <> 'joined' or unit_id is not null),
  array[tests.id('owner_a')], 'every change by the owner is attributed to the owner');
select is((select actor_id from public.get_access_history(tests.id('org_a'), tests.id('guest')) where event = 'joined' and unit_id is null),
  tests.id('guest'), 'joining by a link is the guest''s own act');
select is((select count(*) from public.get_access_history(tests.id('org_a'), tests.id('owner_a')) where event = 'handed_on_ownership'),
  1::bigint, 'the former owner''s history shows ownership handed on');

-- Leaving by one's own act is 'left'.
select tests.authenticate_as(tests.id('loner_a'));
select public.leave_organization(tests.id('org_a'));
select tests.authenticate_as(tests.id('manager_a'));
select is((select event from public.get_access_history(tests.id('org_a'), tests.id('loner_a')) order by occurred_at desc limit 1),
  'left', 'a member who left is recorded as having left');

-- A user with no history there, or another organization's user: no rows.
select is((select count(*) from public.get_access_history(tests.id('org_a'), tests.id('stranger'))), 0::bigint,
  'a user who never belonged has no history');
select is((select count(*) from public.get_access_history(tests.id('org_a'), tests.id('team_b'))), 0::bigint,
  'nor has another organization''s member');

-- Refused: team members, outsiders, other organizations, anon; unknown organizations alike.
select tests.authenticate_as(tests.id('member_a'));
select tests.refused(format('select count(*) from public.get_access_history(%L, %L)', tests.id('org_a'), tests.id('guest')),
  'a team member may not read access history', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select count(*) from public.get_access_history(%L, %L)', tests.id('org_a'), tests.id('guest')),
  'another organization''s owner may not', '{42501}');
select tests.refused(format('select count(*) from public.get_access_history(%L, %L)', gen_random_uuid(), tests.id('guest')),
  'an unknown organization is refused the same way', '{42501}');
select tests.authenticate_as(tests.id('stranger'));
select tests.refused(format('select count(*) from public.get_access_history(%L, %L)', tests.id('org_a'), tests.id('guest')),
  'an outsider may not', '{42501}');
select tests.authenticate_anon();
select tests.refused(format('select count(*) from public.get_access_history(%L, %L)', tests.id('org_a'), tests.id('guest')),
  'a request without a user may not', '{42501}');
select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format('select count(*) from public.get_access_history(null, %L)', tests.id('guest')),
  'a missing organization id is refused', '{22023}');

-- An expired manager has lost the right too.
select tests.reset_identity();
update core.memberships set expires_at = now() - interval '1 second'
  where user_id = tests.id('manager_a') and organization_id = tests.id('org_a');
select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format('select count(*) from public.get_access_history(%L, %L)', tests.id('org_a'), tests.id('guest')),
  'a manager whose membership expired may not', '{42501}');

select * from finish();
rollback;
