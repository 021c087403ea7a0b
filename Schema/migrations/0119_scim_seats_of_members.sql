-- 0119_scim_seats_of_members: a pending SCIM user who is already a member of the organization
-- holds no second seat.
--
-- 0118 counts an active SCIM user still pending (not yet bound) as a seat, so that an identity
-- provider cannot provision more people than seats and have them bind later. But a directory
-- usually provisions the people who are members already; outside the organization's verified
-- domains their SCIM users stay pending until each claims them, and meanwhile every one of
-- them was counted twice: once as the membership, once as the reservation. A full organization
-- could not provision its own members (P0001, seat limit), and one with room lost a seat per
-- pending member.
--
-- Who a pending SCIM user is for is decided as binding decides it: by the address the platform
-- verified (core.find_verified_user, each adapter's own proof: Supabase's confirmed
-- auth.users, OIDC's issuer-verified links). When that user holds a live membership of the
-- organization, binding adopts it (0118): the reservation is that membership's seat and is not
-- counted again. An address nobody verified, or that a non-member verified, still reserves a
-- seat. Under Payload the database knows no verified address, so nothing changes there until
-- the member claims.
--
-- Nothing here can exceed the limit: a membership is only ever written through the seat
-- trigger (core.enforce_membership_seat_limit), which counts every live membership, binding
-- included; if the member leaves before claiming, the pending user counts again from then on.

-- core.seats_taken(p_org_id): the organization's seats in use: its live, unexpired memberships
-- and its active SCIM users still pending (a reservation for someone who will bind), except a
-- pending user whose verified address is a live member's (that member's own seat). Internal.
-- Raises nothing.
create or replace function core.seats_taken(p_org_id uuid)
returns bigint
language sql
stable
set search_path = ''
as $$
    select (select pg_catalog.count(*) from core.memberships as m
            where m.organization_id = p_org_id
              and not m.is_deleted
              and (m.expires_at is null or m.expires_at > pg_catalog.now()))
         + (select pg_catalog.count(*) from core.scim_users as s
            where s.organization_id = p_org_id
              and s.active
              and s.user_id is null
              and not exists (
                  select 1 from core.memberships as m
                  where m.organization_id = p_org_id
                    and m.user_id = core.find_verified_user(s.email)
                    and not m.is_deleted
                    and (m.expires_at is null or m.expires_at > pg_catalog.now())));
$$;

revoke all on function core.seats_taken(uuid) from public, anon, authenticated, app_user;
