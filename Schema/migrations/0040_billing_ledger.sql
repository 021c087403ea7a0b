-- 0040_billing_ledger: billing driven by the payment providers' webhook events. An event
-- ledger (platform.billing_events) that stores every verified event once and applies it to the
-- subscription state in the provider's own order; entitlements (features and limits) read from
-- the subscribed product and the organization's override; a seat limit on memberships.
--
-- The bridge verifies each webhook's signature on the raw body, then calls
-- platform.record_billing_event(provider, event id, payload) once per delivery and answers the
-- provider 200 whatever the outcome: `applied` (state changed), `duplicate` (seen before:
-- nothing changes), `stale` (older than the state already applied: recorded only), `ignored`
-- (a type we do not act on: recorded) or `rejected` (cannot be applied: recorded with the
-- reason). A rejected event never creates anything for an organization that does not exist.
--
-- Order. Providers deliver events more than once and out of order. Each subscription keeps the
-- provider timestamp of the last event applied to it (billing_subscriptions.last_event_at);
-- an older event is stale. Stripe's timestamp is the event's `created` (whole seconds): the
-- subscription object carries no "updated" time of its own, and the event is a snapshot of
-- the object at that moment. Lemon Squeezy's is the object's `updated_at`. Two events of one
-- subscription with the same timestamp cannot be ordered by time, so on a tie the event is
-- stale when it is a creation event (a subscription's first state) or when it would move the
-- subscription back along incomplete -> live (active, trialing, past_due, unpaid, paused) ->
-- ended (canceled, incomplete_expired); otherwise the later delivery wins.
--
-- Concurrency. Deliveries of one event are serialized by a transaction-level advisory lock on
-- (provider, event id) taken before the duplicate check, so of five identical deliveries at
-- the same moment exactly one applies and four answer `duplicate` (READ COMMITTED, the
-- default: each statement sees what the winner committed; under REPEATABLE READ a loser fails
-- on the ledger's unique key instead, changes nothing, and the provider's retry reads
-- `duplicate`). Events of one subscription are serialized by a second advisory lock on the
-- subscription, always taken after the event's.
--
-- Plans. billing_subscriptions.plan holds the subscribed product's name (what a member sees,
-- e.g. "Pro"); the provider's price (Stripe) or variant (Lemon Squeezy) id goes to the new
-- column provider_price_id, which is what entitlements follow (a product renamed later keeps
-- its subscribers). Products are matched on subscription_products.paymentprocessor_price_id;
-- inactive products still match (existing subscribers of a plan no longer sold), deleted ones
-- do not.
--
-- Entitlements. A product's metadata may hold
--   {"features": ["sso", "audit_export"], "limits": {"max_members": 5}}
-- An organization's entitlements come from its entitling subscription (status active or
-- trialing, and not past the end of a period it was cancelled at; the most recent one if
-- several), or from the product named by its override's plan_override (a price id or a
-- product name), then its override's `features` object on top: a boolean value turns that
-- feature on or off, a number sets that limit, JSON null removes that limit; other values are
-- not entitlements and are ignored here. platform_subscription_overrides.organization_id
-- references platform_organizations, whose id is the core.organizations id (0002, 0004), so an
-- organization id is used for both.

-- =============================================================================================
-- Tables
-- =============================================================================================

-- What the bridge knows of a subscription beyond SMTA 0.8's columns (all nullable: rows
-- written by record_subscription_update or by hand simply have none).
alter table platform.billing_subscriptions
    add column raw_status text,
    add column provider_price_id text,
    add column last_event_at timestamptz;

comment on column platform.billing_subscriptions.raw_status is
    'The provider''s own status (e.g. Lemon Squeezy on_trial, cancelled), before normalisation into status.';
comment on column platform.billing_subscriptions.provider_price_id is
    'The provider''s price (Stripe) or variant (Lemon Squeezy) id, matched to subscription_products.paymentprocessor_price_id.';
comment on column platform.billing_subscriptions.last_event_at is
    'Provider timestamp of the last webhook event applied to this subscription; older events are stale.';

-- Every verified webhook event, once per (provider, event id), with what processing made of
-- it. Written only by platform.record_billing_event; read by the service role.
create table platform.billing_events (
    id uuid primary key default gen_random_uuid(),
    provider text not null
        constraint billing_events_provider_check check (provider in ('stripe', 'lemon_squeezy')),
    event_id text not null,
    event_type text,
    occurred_at timestamptz,
    received_at timestamptz not null default now(),
    provider_subscription_id text,
    organization_id uuid references core.organizations (id) on delete set null,
    payload jsonb not null,
    outcome text not null
        constraint billing_events_outcome_check check (outcome in ('applied', 'stale', 'ignored', 'rejected')),
    reason text,
    constraint billing_events_provider_event_id_key unique (provider, event_id)
);

comment on table platform.billing_events is
    'Webhook events of the payment providers, each stored once (provider, event_id) with its outcome.';
comment on column platform.billing_events.event_id is
    'Stripe: the event id (evt_...). Lemon Squeezy: ls_ + SHA-256 hex of the raw body, derived by the bridge.';
comment on column platform.billing_events.occurred_at is
    'Provider timestamp used for ordering: Stripe created, Lemon Squeezy data.attributes.updated_at.';

create index idx_billing_events_subscription on platform.billing_events (provider, provider_subscription_id, occurred_at desc)
    where provider_subscription_id is not null;
create index idx_billing_events_organization_id on platform.billing_events (organization_id)
    where organization_id is not null;
create index idx_billing_events_received_at on platform.billing_events (received_at desc);

-- Row-level security enabled and forced, no policy: tenants have no privilege on platform
-- tables at all; the service role (BYPASSRLS) reads the ledger. Nobody writes it directly,
-- not even app_admin: it is append-only through record_billing_event.
alter table platform.billing_events enable row level security;
alter table platform.billing_events force row level security;
revoke all on platform.billing_events from public, anon, authenticated, app_user;
grant select on platform.billing_events to app_admin;

-- =============================================================================================
-- Internal helpers (owner only)
-- =============================================================================================

-- platform.billing_timestamp: a provider timestamp as timestamptz: a JSON number is unix
-- seconds (Stripe), a JSON string an ISO 8601 date-time (Lemon Squeezy); anything else,
-- or a value that does not parse, is null. Internal (owner only). Raises nothing.
create or replace function platform.billing_timestamp(p_value jsonb)
returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
begin
  case pg_catalog.jsonb_typeof(p_value)
    when 'number' then
      return pg_catalog.to_timestamp((p_value #>> '{}')::double precision);
    when 'string' then
      -- Only a real date-time: PostgreSQL would also accept words such as 'now'.
      if (p_value #>> '{}') ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}' then
        return (p_value #>> '{}')::timestamptz;
      end if;
      return null;
    else
      return null;
  end case;
exception
  when data_exception then
    return null;
end;
$$;

revoke all on function platform.billing_timestamp(jsonb) from public, anon, authenticated;

-- platform.billing_json_id: a provider id given as a JSON string or number (Lemon Squeezy
-- sends numbers), or the `id` of an expanded object (Stripe), as trimmed text; null when
-- absent or empty. Internal (owner only). Raises nothing.
create or replace function platform.billing_json_id(p_value jsonb)
returns text
language sql
immutable
set search_path = ''
as $$
  select nullif(pg_catalog.btrim(
    case pg_catalog.jsonb_typeof(p_value)
      when 'string' then p_value #>> '{}'
      when 'number' then p_value #>> '{}'
      when 'object' then case when pg_catalog.jsonb_typeof(p_value -> 'id') in ('string', 'number')
                              then p_value ->> 'id' end
    end), '');
$$;

revoke all on function platform.billing_json_id(jsonb) from public, anon, authenticated;

-- platform.billing_status_rank: where a normalised status stands in a subscription's life
-- (0 incomplete, 1 live, 2 ended), to order two events with the same timestamp.
-- Internal (owner only). Raises nothing.
create or replace function platform.billing_status_rank(p_status text)
returns integer
language sql
immutable
set search_path = ''
as $$
  select case
    when p_status = 'incomplete' then 0
    when p_status in ('canceled', 'incomplete_expired') then 2
    else 1
  end;
$$;

revoke all on function platform.billing_status_rank(text) from public, anon, authenticated;

-- platform.find_subscription_product: the live (not deleted, active or not) product a
-- reference names: its paymentprocessor_price_id, or else its name when exactly one live
-- product has that name. Null when nothing matches. Internal (owner only). Raises nothing.
create or replace function platform.find_subscription_product(p_ref text)
returns platform.subscription_products
language plpgsql
stable
set search_path = ''
as $$
declare
  v_product platform.subscription_products;
begin
  select sp.* into v_product
  from platform.subscription_products as sp
  where sp.paymentprocessor_price_id = p_ref
    and not sp.is_deleted;
  if found then
    return v_product;
  end if;

  if (select pg_catalog.count(*) from platform.subscription_products as sp
      where sp.name = p_ref and not sp.is_deleted) = 1 then
    select sp.* into v_product
    from platform.subscription_products as sp
    where sp.name = p_ref
      and not sp.is_deleted;
    return v_product;
  end if;
  return null;
end;
$$;

revoke all on function platform.find_subscription_product(text) from public, anon, authenticated;

-- platform.organization_entitlements: an organization's plan, features and limits as
-- {"plan": <product name or null>, "features": [...], "limits": {...}}: the product of its
-- entitling subscription (status active or trialing and not past the end of a period it was
-- cancelled at; the most recently updated one) or of its override's plan_override, then the
-- override's features object on top (booleans switch features, numbers set limits, null
-- removes a limit). Empty features and limits when it has neither. Internal (owner only):
-- public.org_has_feature and the seat limit read it. Raises nothing.
create or replace function platform.organization_entitlements(p_org_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_override platform.platform_subscription_overrides;
  v_product platform.subscription_products;
  v_features jsonb := '[]';
  v_limits jsonb := '{}';
  v_entry record;
begin
  select o.* into v_override
  from platform.platform_subscription_overrides as o
  where o.organization_id = p_org_id
    and not o.is_deleted
  order by o.updated_at desc, o.id
  limit 1;

  if coalesce(pg_catalog.btrim(v_override.plan_override), '') <> '' then
    v_product := platform.find_subscription_product(pg_catalog.btrim(v_override.plan_override));
  end if;

  if v_product.id is null then
    -- Rows written by record_subscription_update carry no price id; upstream callers put
    -- the price id (or a product name) in plan.
    select p.* into v_product
    from platform.billing_subscriptions as bs
    cross join lateral platform.find_subscription_product(coalesce(bs.provider_price_id, bs.plan)) as p
    where bs.organization_id = p_org_id
      and not bs.is_deleted
      and bs.status in ('active', 'trialing')
      and not (coalesce(bs.cancel_at_period_end, false) and bs.current_period_end <= now())
      and p.id is not null
    order by bs.last_event_at desc nulls last, bs.updated_at desc, bs.id
    limit 1;
  end if;

  if v_product.id is not null then
    if pg_catalog.jsonb_typeof(v_product.metadata -> 'features') = 'array' then
      select coalesce(pg_catalog.jsonb_agg(distinct f.value), '[]') into v_features
      from pg_catalog.jsonb_array_elements(v_product.metadata -> 'features') as f
      where pg_catalog.jsonb_typeof(f.value) = 'string';
    end if;
    if pg_catalog.jsonb_typeof(v_product.metadata -> 'limits') = 'object' then
      v_limits := v_product.metadata -> 'limits';
    end if;
  end if;

  if pg_catalog.jsonb_typeof(v_override.features) = 'object' then
    for v_entry in select e.key, e.value from pg_catalog.jsonb_each(v_override.features) as e loop
      case pg_catalog.jsonb_typeof(v_entry.value)
        when 'boolean' then
          v_features := v_features - v_entry.key;
          if (v_entry.value #>> '{}')::boolean then
            v_features := v_features || pg_catalog.to_jsonb(v_entry.key);
          end if;
        when 'number' then
          v_limits := v_limits || pg_catalog.jsonb_build_object(v_entry.key, v_entry.value);
        when 'null' then
          v_limits := v_limits - v_entry.key;
        else
          null;
      end case;
    end loop;
  end if;

  return pg_catalog.jsonb_build_object(
    'plan', v_product.name,
    'features', v_features,
    'limits', v_limits
  );
end;
$$;

revoke all on function platform.organization_entitlements(uuid) from public, anon, authenticated;

-- platform.organization_member_limit: the organization's seat limit (limits.max_members of
-- its entitlements), or null for no limit (no plan, no max_members, or a value that is not a
-- whole number of zero or more). Internal (owner only). Raises nothing.
create or replace function platform.organization_member_limit(p_org_id uuid)
returns integer
language sql
stable
set search_path = ''
as $$
  select case
    when pg_catalog.jsonb_typeof(l.value) = 'number'
     and (l.value #>> '{}')::numeric >= 0
     and (l.value #>> '{}')::numeric <= 2147483647
     and (l.value #>> '{}')::numeric = pg_catalog.trunc((l.value #>> '{}')::numeric)
    then (l.value #>> '{}')::integer
  end
  from (select platform.organization_entitlements(p_org_id) -> 'limits' -> 'max_members' as value) as l;
$$;

revoke all on function platform.organization_member_limit(uuid) from public, anon, authenticated;

-- platform.link_billing_customer: links an organization to a provider customer on behalf of
-- a webhook event (one customer per organization: a new one replaces the old link and
-- revives a soft-deleted one; an email that is not an address is not stored). Returns null, or
-- the reason the link is refused: the customer is linked to another organization.
-- Internal (owner only). Raises nothing of its own.
create or replace function platform.link_billing_customer(
  p_org_id uuid,
  p_provider text,
  p_customer_id text,
  p_email text
)
returns text
language plpgsql
set search_path = ''
as $$
declare
  v_email text := nullif(pg_catalog.btrim(p_email), '');
begin
  if exists (
    select 1 from platform.billing_customers as bc
    where bc.provider_customer_id = p_customer_id
      and bc.organization_id <> p_org_id
  ) then
    return pg_catalog.format('the customer %s is linked to another organization', p_customer_id);
  end if;
  if v_email !~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$' then
    v_email := null;
  end if;

  insert into platform.billing_customers as bc (organization_id, provider_customer_id, provider, billing_email)
  values (p_org_id, p_customer_id, p_provider, v_email)
  on conflict (organization_id) do update
  set provider_customer_id = excluded.provider_customer_id,
      provider = excluded.provider,
      billing_email = coalesce(excluded.billing_email, bc.billing_email),
      is_deleted = false,
      deleted_at = null,
      deleted_by = null
  where (bc.provider_customer_id, bc.provider, bc.billing_email, bc.is_deleted)
        is distinct from (excluded.provider_customer_id, excluded.provider,
                          coalesce(excluded.billing_email, bc.billing_email), false);
  return null;
end;
$$;

revoke all on function platform.link_billing_customer(uuid, text, text, text) from public, anon, authenticated;

-- platform.apply_subscription_event: applies one provider snapshot of a subscription. Finds
-- the organization (the subscription's own, else p_org_ref from the event's metadata, else the
-- organization linked to p_customer_id), checks order against the last applied event, the
-- product (p_price_id) and the status, then writes the subscription and links the customer.
-- Returns the outcome (applied, stale, rejected), the reason and the organization when known.
-- Internal (owner only). Raises nothing of its own.
create or replace function platform.apply_subscription_event(
  p_provider text,
  p_event_type text,
  p_occurred_at timestamptz,
  p_subscription_id text,
  p_org_ref text,
  p_customer_id text,
  p_email text,
  p_price_id text,
  p_raw_status text,
  p_status text,
  p_period_end timestamptz,
  p_cancel_at_period_end boolean,
  out outcome text,
  out reason text,
  out organization_id uuid
)
language plpgsql
set search_path = ''
as $$
declare
  v_sub platform.billing_subscriptions;
  v_product platform.subscription_products;
  v_org_claim uuid;
  v_link_refusal text;
  v_id uuid;
begin
  outcome := 'rejected';

  if p_subscription_id is null then
    reason := 'malformed event: no subscription id';
    return;
  end if;

  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('platform.billing_subscriptions:' || p_provider || ':' || p_subscription_id, 0));

  select bs.* into v_sub
  from platform.billing_subscriptions as bs
  where bs.provider_subscription_id = p_subscription_id;

  -- The organization. A subscription never moves to another organization or provider.
  if p_org_ref is not null then
    if p_org_ref !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
      reason := 'the organization_id in the event metadata is not a valid id';
      return;
    end if;
    v_org_claim := p_org_ref::uuid;
  end if;

  if v_sub.id is not null then
    organization_id := v_sub.organization_id;
    if v_sub.provider <> p_provider then
      reason := 'the subscription belongs to another provider';
      return;
    end if;
    if v_org_claim is not null and v_org_claim <> v_sub.organization_id then
      reason := 'the subscription belongs to another organization than its metadata names';
      return;
    end if;
  elsif v_org_claim is not null then
    if not exists (select 1 from core.organizations as o where o.id = v_org_claim) then
      reason := pg_catalog.format('unknown organization %s', v_org_claim);
      return;
    end if;
    organization_id := v_org_claim;
  elsif p_customer_id is not null then
    select bc.organization_id into organization_id
    from platform.billing_customers as bc
    where bc.provider_customer_id = p_customer_id
      and bc.provider = p_provider
      and not bc.is_deleted;
  end if;

  if organization_id is null then
    reason := 'unknown organization: the event names none and its customer is not linked to one';
    return;
  end if;

  if p_occurred_at is null then
    reason := 'malformed event: no timestamp';
    return;
  end if;

  -- Order (see the head of this file).
  if v_sub.last_event_at is not null
     and (p_occurred_at < v_sub.last_event_at
          or (p_occurred_at = v_sub.last_event_at
              and (p_event_type in ('customer.subscription.created', 'subscription_created')
                   or platform.billing_status_rank(p_status) < platform.billing_status_rank(v_sub.status)))) then
    outcome := 'stale';
    reason := pg_catalog.format('an event of %s was already applied', v_sub.last_event_at);
    return;
  end if;

  if p_price_id is null then
    reason := 'malformed event: no price or variant id';
    return;
  end if;
  select sp.* into v_product
  from platform.subscription_products as sp
  where sp.paymentprocessor_price_id = p_price_id
    and not sp.is_deleted;
  if v_product.id is null then
    reason := pg_catalog.format('unknown price %s: no subscription product has it', p_price_id);
    return;
  end if;

  if p_status is null then
    reason := pg_catalog.format('unknown subscription status %s', coalesce(p_raw_status, '(none)'));
    return;
  end if;

  if p_customer_id is not null then
    v_link_refusal := platform.link_billing_customer(organization_id, p_provider, p_customer_id, p_email);
    if v_link_refusal is not null then
      reason := v_link_refusal;
      return;
    end if;
  end if;

  insert into platform.billing_subscriptions as bs (
    organization_id, provider_subscription_id, provider, plan, status, raw_status,
    provider_price_id, current_period_end, cancel_at_period_end, last_event_at
  )
  values (
    organization_id, p_subscription_id, p_provider, v_product.name, p_status, p_raw_status,
    p_price_id, p_period_end, coalesce(p_cancel_at_period_end, false), p_occurred_at
  )
  on conflict (provider_subscription_id) do update
  set plan = excluded.plan,
      status = excluded.status,
      raw_status = excluded.raw_status,
      provider_price_id = excluded.provider_price_id,
      current_period_end = excluded.current_period_end,
      cancel_at_period_end = excluded.cancel_at_period_end,
      last_event_at = excluded.last_event_at,
      is_deleted = false,
      deleted_at = null,
      deleted_by = null
  returning bs.id into v_id;

  perform platform.log_platform_action(
    'billing_event', 'platform.billing_subscriptions', v_id, 'Applied a billing event',
    pg_catalog.jsonb_build_object('provider', p_provider, 'event_type', p_event_type, 'status', p_status)
  );

  outcome := 'applied';
  reason := null;
end;
$$;

revoke all on function platform.apply_subscription_event(text, text, timestamptz, text, text, text, text, text, text, text, timestamptz, boolean)
  from public, anon, authenticated;

-- platform.apply_payment_failure: a failed payment of a known subscription marks it past_due,
-- unless a newer event was applied or the subscription is not live (active, trialing,
-- past_due). Returns the outcome (applied, stale, ignored, rejected), the reason and the
-- organization when known. Internal (owner only). Raises nothing of its own.
create or replace function platform.apply_payment_failure(
  p_provider text,
  p_event_type text,
  p_occurred_at timestamptz,
  p_subscription_id text,
  out outcome text,
  out reason text,
  out organization_id uuid
)
language plpgsql
set search_path = ''
as $$
declare
  v_sub platform.billing_subscriptions;
begin
  if p_subscription_id is null then
    outcome := 'ignored';
    reason := 'the invoice belongs to no subscription';
    return;
  end if;

  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('platform.billing_subscriptions:' || p_provider || ':' || p_subscription_id, 0));

  select bs.* into v_sub
  from platform.billing_subscriptions as bs
  where bs.provider_subscription_id = p_subscription_id
    and bs.provider = p_provider;

  if v_sub.id is null then
    outcome := 'rejected';
    reason := pg_catalog.format('unknown subscription %s', p_subscription_id);
    return;
  end if;
  organization_id := v_sub.organization_id;

  if p_occurred_at is null then
    outcome := 'rejected';
    reason := 'malformed event: no timestamp';
    return;
  end if;
  if v_sub.last_event_at is not null and p_occurred_at < v_sub.last_event_at then
    outcome := 'stale';
    reason := pg_catalog.format('an event of %s was already applied', v_sub.last_event_at);
    return;
  end if;
  if v_sub.is_deleted or v_sub.status not in ('active', 'trialing', 'past_due') then
    outcome := 'ignored';
    reason := pg_catalog.format('the subscription is %s', case when v_sub.is_deleted then 'deleted' else v_sub.status end);
    return;
  end if;

  -- raw_status stays the provider's last reported subscription status: an invoice carries none.
  update platform.billing_subscriptions as bs
  set status = 'past_due',
      last_event_at = p_occurred_at
  where bs.id = v_sub.id;

  perform platform.log_platform_action(
    'billing_event', 'platform.billing_subscriptions', v_sub.id, 'Applied a billing event',
    pg_catalog.jsonb_build_object('provider', p_provider, 'event_type', p_event_type, 'status', 'past_due')
  );

  outcome := 'applied';
  reason := null;
end;
$$;

revoke all on function platform.apply_payment_failure(text, text, timestamptz, text) from public, anon, authenticated;

-- platform.apply_billing_event: interprets one verified event of either provider and applies
-- it (see the head of this file for the event types). Returns the outcome, the reason, and the
-- organization and subscription it concerns when known. A Stripe checkout.session.completed
-- that links a customer also applies the newest event of the session's subscription that was
-- rejected earlier for want of an organization (Stripe may deliver it before the checkout),
-- and marks that ledger row applied. Internal (owner only). Raises nothing of its own.
create or replace function platform.apply_billing_event(
  p_provider text,
  p_event_id text,
  p_event_type text,
  p_occurred_at timestamptz,
  p_payload jsonb,
  out outcome text,
  out reason text,
  out organization_id uuid,
  out subscription_id text
)
language plpgsql
set search_path = ''
as $$
declare
  v_object jsonb;
  v_attributes jsonb;
  v_org_ref text;
  v_raw_status text;
  v_status text;
  v_ends_at timestamptz;
  v_period_end timestamptz;
  v_customer_id text;
  v_refusal text;
  v_parked platform.billing_events;
  v_result record;
begin
  if p_provider = 'stripe' then
    v_object := p_payload #> '{data,object}';
    if p_event_type is null or pg_catalog.jsonb_typeof(v_object) is distinct from 'object' then
      outcome := 'rejected';
      reason := 'malformed event: no type or no data.object';
      return;
    end if;

    if p_event_type in ('customer.subscription.created', 'customer.subscription.updated',
                        'customer.subscription.deleted') then
      subscription_id := platform.billing_json_id(v_object -> 'id');
      v_raw_status := v_object ->> 'status';
      v_status := case
        when p_event_type = 'customer.subscription.deleted' then 'canceled'
        when v_raw_status in ('active', 'trialing', 'past_due', 'canceled', 'unpaid', 'incomplete',
                              'incomplete_expired', 'paused') then v_raw_status
      end;
      select r.outcome, r.reason, r.organization_id into outcome, reason, organization_id
      from platform.apply_subscription_event(
        p_provider, p_event_type, p_occurred_at, subscription_id,
        nullif(pg_catalog.btrim(v_object #>> '{metadata,organization_id}'), ''),
        platform.billing_json_id(v_object -> 'customer'),
        null,
        platform.billing_json_id(coalesce(v_object #> '{items,data,0,price}', v_object -> 'plan')),
        v_raw_status, v_status,
        -- Newer API versions moved the period to the subscription items.
        coalesce(platform.billing_timestamp(v_object -> 'current_period_end'),
                 platform.billing_timestamp(v_object #> '{items,data,0,current_period_end}')),
        case when pg_catalog.jsonb_typeof(v_object -> 'cancel_at_period_end') = 'boolean'
             then (v_object ->> 'cancel_at_period_end')::boolean end
      ) as r;
      return;
    end if;

    if p_event_type = 'invoice.payment_failed' then
      -- Older API versions name the subscription on the invoice, newer ones under parent.
      subscription_id := coalesce(platform.billing_json_id(v_object -> 'subscription'),
                                  platform.billing_json_id(v_object #> '{parent,subscription_details,subscription}'));
      select r.outcome, r.reason, r.organization_id into outcome, reason, organization_id
      from platform.apply_payment_failure(p_provider, p_event_type, p_occurred_at, subscription_id) as r;
      return;
    end if;

    if p_event_type = 'checkout.session.completed' then
      subscription_id := platform.billing_json_id(v_object -> 'subscription');
      v_org_ref := coalesce(nullif(pg_catalog.btrim(v_object ->> 'client_reference_id'), ''),
                            nullif(pg_catalog.btrim(v_object #>> '{metadata,organization_id}'), ''));
      v_customer_id := platform.billing_json_id(v_object -> 'customer');
      outcome := 'rejected';
      if v_org_ref is null then
        reason := 'unknown organization: the session has no client_reference_id or metadata.organization_id';
        return;
      end if;
      if v_org_ref !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        reason := 'the organization id of the session is not a valid id';
        return;
      end if;
      if not exists (select 1 from core.organizations as o where o.id = v_org_ref::uuid) then
        reason := pg_catalog.format('unknown organization %s', v_org_ref);
        return;
      end if;
      organization_id := v_org_ref::uuid;
      if v_customer_id is null then
        outcome := 'ignored';
        reason := 'the session has no customer to link';
        return;
      end if;

      v_refusal := platform.link_billing_customer(
        organization_id, p_provider, v_customer_id,
        coalesce(v_object #>> '{customer_details,email}', v_object ->> 'customer_email'));
      if v_refusal is not null then
        reason := v_refusal;
        return;
      end if;
      perform platform.log_platform_action(
        'billing_event', 'platform.billing_customers', organization_id, 'Applied a billing event',
        pg_catalog.jsonb_build_object('provider', p_provider, 'event_type', p_event_type)
      );
      outcome := 'applied';

      -- The subscription's own events may have arrived first and found no organization.
      if subscription_id is not null then
        select e.* into v_parked
        from platform.billing_events as e
        where e.provider = p_provider
          and e.provider_subscription_id = subscription_id
          and e.outcome = 'rejected'
          and e.organization_id is null
          and e.event_type like 'customer.subscription.%'
        order by e.occurred_at desc nulls last, e.received_at desc
        limit 1;

        if v_parked.id is not null then
          select r.outcome, r.organization_id into v_result
          from platform.apply_billing_event(
            v_parked.provider, v_parked.event_id, v_parked.event_type, v_parked.occurred_at,
            v_parked.payload) as r;
          if v_result.outcome = 'applied' then
            update platform.billing_events as e
            set outcome = 'applied',
                organization_id = v_result.organization_id,
                reason = pg_catalog.format('applied once checkout.session.completed %s linked its customer',
                                           p_event_id)
            where e.id = v_parked.id;
          end if;
        end if;
      end if;
      return;
    end if;

    outcome := 'ignored';
    reason := pg_catalog.format('event type %s is not acted on', p_event_type);
    return;
  end if;

  -- Lemon Squeezy
  v_attributes := p_payload #> '{data,attributes}';
  if p_event_type is null or pg_catalog.jsonb_typeof(v_attributes) is distinct from 'object' then
    outcome := 'rejected';
    reason := 'malformed event: no meta.event_name or no data.attributes';
    return;
  end if;

  if p_event_type in ('subscription_created', 'subscription_updated', 'subscription_cancelled',
                      'subscription_expired', 'subscription_paused', 'subscription_resumed',
                      'subscription_unpaused') then
    subscription_id := platform.billing_json_id(p_payload #> '{data,id}');
    v_raw_status := v_attributes ->> 'status';
    v_ends_at := platform.billing_timestamp(v_attributes -> 'ends_at');
    -- A cancelled subscription runs until ends_at (its grace period), like a Stripe
    -- subscription cancelled at period end: active until then, canceled after.
    v_status := case v_raw_status
      when 'on_trial' then 'trialing'
      when 'active' then 'active'
      when 'paused' then 'paused'
      when 'past_due' then 'past_due'
      when 'unpaid' then 'unpaid'
      when 'expired' then 'canceled'
      when 'cancelled' then case when v_ends_at > now() then 'active' else 'canceled' end
    end;
    v_period_end := coalesce(v_ends_at, platform.billing_timestamp(v_attributes -> 'renews_at'));
    select r.outcome, r.reason, r.organization_id into outcome, reason, organization_id
    from platform.apply_subscription_event(
      p_provider, p_event_type, p_occurred_at, subscription_id,
      nullif(pg_catalog.btrim(p_payload #>> '{meta,custom_data,organization_id}'), ''),
      platform.billing_json_id(v_attributes -> 'customer_id'),
      v_attributes ->> 'user_email',
      platform.billing_json_id(v_attributes -> 'variant_id'),
      v_raw_status, v_status, v_period_end,
      case when pg_catalog.jsonb_typeof(v_attributes -> 'cancelled') = 'boolean'
           then (v_attributes ->> 'cancelled')::boolean end
    ) as r;
    return;
  end if;

  if p_event_type = 'subscription_payment_failed' then
    -- data is a subscription invoice, which names its subscription.
    subscription_id := platform.billing_json_id(v_attributes -> 'subscription_id');
    select r.outcome, r.reason, r.organization_id into outcome, reason, organization_id
    from platform.apply_payment_failure(p_provider, p_event_type, p_occurred_at, subscription_id) as r;
    return;
  end if;

  outcome := 'ignored';
  reason := pg_catalog.format('event type %s is not acted on', p_event_type);
end;
$$;

revoke all on function platform.apply_billing_event(text, text, text, timestamptz, jsonb) from public, anon, authenticated;

-- =============================================================================================
-- The bridge's entry point
-- =============================================================================================

-- platform.record_billing_event: records one verified webhook event of p_provider ('stripe' or
-- 'lemon_squeezy') in the ledger, once, and applies it; returns one row (outcome, reason):
-- applied, duplicate, stale, ignored or rejected (see the head of this file). p_event_id:
-- Stripe null (the payload's id is used; if given it must equal it), Lemon Squeezy the
-- bridge's key 'ls_' + SHA-256 hex of the raw body. p_payload: the event as received.
-- The bridge after verifying the signature: the service role (app_admin) without an identity,
-- or a platform super_admin. Raises 42501 for other identities (anon and authenticated may
-- not execute it), 22023 for an unknown provider, a payload that is not a JSON object, or a
-- missing or malformed event id.
create or replace function platform.record_billing_event(
  p_provider text,
  p_event_id text,
  p_payload jsonb
)
returns table (
  outcome text,
  reason text
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_event_id text;
  v_event_type text;
  v_occurred_at timestamptz;
  v_result record;
begin
  perform platform.ensure_platform_admin();

  if p_provider is null or p_provider not in ('stripe', 'lemon_squeezy') then
    raise exception 'The provider must be ''stripe'' or ''lemon_squeezy'''
      using errcode = '22023';
  end if;
  if p_payload is null or pg_catalog.jsonb_typeof(p_payload) <> 'object' then
    raise exception 'The event payload must be a JSON object'
      using errcode = '22023';
  end if;

  if p_provider = 'stripe' then
    v_event_id := nullif(pg_catalog.btrim(p_payload ->> 'id'), '');
    if v_event_id is null or pg_catalog.jsonb_typeof(p_payload -> 'id') <> 'string' then
      raise exception 'A Stripe event needs its id'
        using errcode = '22023';
    end if;
    if p_event_id is not null and p_event_id <> v_event_id then
      raise exception 'The event id differs from the id in the payload'
        using errcode = '22023';
    end if;
    if pg_catalog.length(v_event_id) > 255 then
      raise exception 'The event id is too long'
        using errcode = '22023';
    end if;
    v_event_type := nullif(p_payload ->> 'type', '');
    v_occurred_at := platform.billing_timestamp(p_payload -> 'created');
  else
    v_event_id := p_event_id;
    if v_event_id is null or v_event_id !~ '^ls_[0-9a-f]{64}$' then
      raise exception 'A Lemon Squeezy event needs the id derived from its body (ls_ and 64 hex digits)'
        using errcode = '22023';
    end if;
    v_event_type := nullif(p_payload #>> '{meta,event_name}', '');
    v_occurred_at := platform.billing_timestamp(p_payload #> '{data,attributes,updated_at}');
  end if;

  -- Deliveries of one event wait for each other; the first one's row answers the others.
  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('platform.billing_events:' || p_provider || ':' || v_event_id, 0));

  if exists (
    select 1 from platform.billing_events as e
    where e.provider = p_provider
      and e.event_id = v_event_id
  ) then
    return query select 'duplicate'::text, 'this event was recorded before'::text;
    return;
  end if;

  select r.* into v_result
  from platform.apply_billing_event(p_provider, v_event_id, v_event_type, v_occurred_at, p_payload) as r;

  insert into platform.billing_events (
    provider, event_id, event_type, occurred_at, provider_subscription_id, organization_id,
    payload, outcome, reason
  )
  values (
    p_provider, v_event_id, v_event_type, v_occurred_at, v_result.subscription_id,
    v_result.organization_id, p_payload, v_result.outcome, v_result.reason
  );

  return query select v_result.outcome, v_result.reason;
end;
$$;

revoke all on function platform.record_billing_event(text, text, jsonb) from public, anon, authenticated;
grant execute on function platform.record_billing_event(text, text, jsonb) to app_admin;

-- =============================================================================================
-- Entitlements for members
-- =============================================================================================

-- public.get_subscription: the organization's subscription as its members see it: provider,
-- plan (the product's name), normalised status, period end and whether it ends then. One row
-- at most: a live (active or trialing) subscription before others, then the most recent; no
-- row when the organization has none or the caller is not a live member (as other
-- member-only reads). Raises 42501 when unauthenticated.
create or replace function public.get_subscription(p_org_id uuid)
returns table (
  provider text,
  plan text,
  status text,
  current_period_end timestamptz,
  cancel_at_period_end boolean
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform core.require_user_id();

  if p_org_id is null or not (p_org_id = any (core.current_user_org_ids())) then
    return;
  end if;

  return query
  select bs.provider, bs.plan, bs.status, bs.current_period_end,
         coalesce(bs.cancel_at_period_end, false)
  from platform.billing_subscriptions as bs
  where bs.organization_id = p_org_id
    and not bs.is_deleted
  order by (bs.status in ('active', 'trialing')) desc,
           bs.last_event_at desc nulls last, bs.updated_at desc, bs.id
  limit 1;
end;
$$;

revoke all on function public.get_subscription(uuid) from public, anon;
grant execute on function public.get_subscription(uuid) to app_user;

-- public.org_has_feature: whether the organization's plan (or its override) includes
-- p_feature. Cheap and STABLE, for application policies, e.g.
--   using (organization_id = any ((select core.current_user_org_ids())::uuid[])
--          and (select public.org_has_feature('<org id>', 'sso')))
-- False for a non-member, an unknown organization or feature, never an error for them.
-- Raises 42501 when unauthenticated.
create or replace function public.org_has_feature(p_org_id uuid, p_feature text)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform core.require_user_id();

  if p_org_id is null or p_feature is null
     or not (p_org_id = any (core.current_user_org_ids())) then
    return false;
  end if;

  return coalesce(platform.organization_entitlements(p_org_id) -> 'features' ? p_feature, false);
end;
$$;

revoke all on function public.org_has_feature(uuid, text) from public, anon;
grant execute on function public.org_has_feature(uuid, text) to app_user;

-- =============================================================================================
-- Seat limit
-- =============================================================================================
-- limits.max_members of the organization's entitlements caps its live members (the owner
-- included). It is checked when a membership becomes live (insert, or revival of a removed
-- member: accept_invitation, add_member_to_organization, direct writes) and when an
-- invitation is created or resent: inviting into a full organization is refused up front.
-- Pending invitations do not hold seats; acceptance checks again. Writers of one
-- organization's memberships are serialized by an advisory lock while they count, so two
-- acceptances racing for the last seat cannot both win.

-- core.check_seat_limit: raises when the organization's live members already fill its seat
-- limit. Internal (owner only), for the triggers below. Raises P0001 when full.
create or replace function core.check_seat_limit(p_org_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_limit integer := platform.organization_member_limit(p_org_id);
begin
  if v_limit is null then
    return;
  end if;

  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('core.memberships:seats:' || p_org_id::text, 0));

  if (select pg_catalog.count(*) from core.memberships as m
      where m.organization_id = p_org_id and not m.is_deleted) >= v_limit then
    raise exception 'The organization has reached its seat limit of % members', v_limit
      using errcode = 'P0001';
  end if;
end;
$$;

revoke all on function core.check_seat_limit(uuid) from public, anon, authenticated;

-- core.enforce_membership_seat_limit: trigger on core.memberships: a membership that becomes
-- live (a new live row, or a removed one revived) must fit the seat limit. An insert that
-- will meet the user's existing row (ON CONFLICT) is left to the update that follows, if any.
-- Internal (trigger). Raises P0001 when the organization is full.
create or replace function core.enforce_membership_seat_limit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.is_deleted then
    return new;
  end if;
  if tg_op = 'INSERT' then
    if exists (
      select 1 from core.memberships as m
      where m.user_id = new.user_id
        and m.organization_id = new.organization_id
    ) then
      return new;
    end if;
  elsif not old.is_deleted and old.organization_id = new.organization_id then
    return new;
  end if;

  perform core.check_seat_limit(new.organization_id);
  return new;
end;
$$;

revoke all on function core.enforce_membership_seat_limit() from public, anon, authenticated;

create trigger trg_memberships_seat_limit before insert or update of is_deleted, organization_id on core.memberships
    for each row execute function core.enforce_membership_seat_limit();

-- core.enforce_invitation_seat_limit: trigger on core.invitations: a pending invitation
-- created (create_invitation) or given a new token (resend_invitation) needs a free seat.
-- Internal (trigger). Raises P0001 when the organization is full.
create or replace function core.enforce_invitation_seat_limit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.status = 'pending' and not new.is_deleted then
    perform core.check_seat_limit(new.organization_id);
  end if;
  return new;
end;
$$;

revoke all on function core.enforce_invitation_seat_limit() from public, anon, authenticated;

create trigger trg_invitations_seat_limit before insert or update of token on core.invitations
    for each row execute function core.enforce_invitation_seat_limit();
