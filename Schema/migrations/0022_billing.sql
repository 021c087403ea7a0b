-- 0022_billing: the two state-writing primitives of billing, called by the backend when a
-- payment provider (Stripe or Lemon Squeezy) reports a customer or a subscription change.
--
-- Upstream SMTA 0.8 wrote columns these tables do not have (paymentprocessor_* instead of
-- provider_*) and upserted subscriptions on organization_id, which is not unique (defects 1-2).
-- Here they write the real columns, and a subscription is keyed by its unique
-- provider_subscription_id. Both keep upstream's arguments and add an optional trailing
-- p_provider ('stripe' by default, or 'lemon_squeezy').
--
-- Callers: the service role (the webhook handler, without an identity) or a platform
-- super_admin; executable by app_admin only (see 0021). Each call is recorded in the platform
-- action log. An organization that has been soft-deleted still receives billing updates (a
-- cancellation may arrive after the deletion); one that never existed is refused.

-- platform.link_paymentprocessor_customer: links an organization to its customer at the
-- payment provider (one customer per organization; linking again replaces it and revives a
-- soft-deleted link). Service role or platform super_admin.
-- Raises 42501 for other identities, 22023 for an empty customer id, an unknown provider or a
-- malformed email, P0002 for an unknown organization, 23505 when the customer is already
-- linked to another organization.
create or replace function platform.link_paymentprocessor_customer(
    p_org_id uuid,
    p_paymentprocessor_customer_id text,
    p_billing_email text,
    p_provider text default 'stripe'
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_actor uuid := core.get_current_user_id();
    v_customer_id text := btrim(p_paymentprocessor_customer_id);
    v_email text := nullif(btrim(p_billing_email), '');
begin
    perform platform.ensure_platform_admin();

    if coalesce(v_customer_id, '') = '' then
        raise exception 'A customer id is required'
            using errcode = '22023';
    end if;
    if p_provider is null or p_provider not in ('stripe', 'lemon_squeezy') then
        raise exception 'The provider must be ''stripe'' or ''lemon_squeezy'''
            using errcode = '22023';
    end if;
    if v_email is not null and v_email !~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$' then
        raise exception 'The billing email is not a valid email address'
            using errcode = '22023';
    end if;
    if not exists (select 1 from core.organizations as o where o.id = p_org_id) then
        raise exception 'Organization not found'
            using errcode = 'P0002';
    end if;
    if exists (
        select 1 from platform.billing_customers as bc
        where bc.provider_customer_id = v_customer_id
          and bc.organization_id <> p_org_id
    ) then
        raise exception 'This customer is already linked to another organization'
            using errcode = '23505';
    end if;

    insert into platform.billing_customers as bc (
        organization_id, provider_customer_id, provider, billing_email, created_by, updated_by
    )
    values (p_org_id, v_customer_id, p_provider, v_email, v_actor, v_actor)
    on conflict (organization_id) do update
    set provider_customer_id = excluded.provider_customer_id,
        provider = excluded.provider,
        billing_email = excluded.billing_email,
        is_deleted = false,
        deleted_at = null,
        deleted_by = null,
        updated_by = v_actor;

    perform platform.log_platform_action(
        'link', 'platform.billing_customers', p_org_id, 'Linked a payment provider customer',
        jsonb_build_object('provider', p_provider, 'provider_customer_id', v_customer_id)
    );
end;
$$;

revoke all on function platform.link_paymentprocessor_customer(uuid, text, text, text)
    from public, anon, authenticated;
grant execute on function platform.link_paymentprocessor_customer(uuid, text, text, text)
    to app_admin;

-- platform.record_subscription_update: creates or updates the subscription identified by
-- p_paymentprocessor_subscription_id (a soft-deleted one is revived). A subscription never
-- moves to another organization or provider. p_cancel_at_period_end null means false.
-- Service role or platform super_admin.
-- Raises 42501 for other identities, 22023 for an empty subscription id, plan or status or an
-- unknown provider, P0002 for an unknown organization, 23505 when the subscription id belongs
-- to another organization or provider.
create or replace function platform.record_subscription_update(
    p_org_id uuid,
    p_paymentprocessor_subscription_id text,
    p_plan text,
    p_status text,
    p_current_period_end timestamptz,
    p_cancel_at_period_end boolean,
    p_provider text default 'stripe'
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_actor uuid := core.get_current_user_id();
    v_subscription_id text := btrim(p_paymentprocessor_subscription_id);
    v_id uuid;
begin
    perform platform.ensure_platform_admin();

    if coalesce(v_subscription_id, '') = ''
       or coalesce(btrim(p_plan), '') = ''
       or coalesce(btrim(p_status), '') = '' then
        raise exception 'A subscription id, a plan and a status are required'
            using errcode = '22023';
    end if;
    if p_provider is null or p_provider not in ('stripe', 'lemon_squeezy') then
        raise exception 'The provider must be ''stripe'' or ''lemon_squeezy'''
            using errcode = '22023';
    end if;
    if not exists (select 1 from core.organizations as o where o.id = p_org_id) then
        raise exception 'Organization not found'
            using errcode = 'P0002';
    end if;

    insert into platform.billing_subscriptions as bs (
        organization_id, provider_subscription_id, provider, plan, status,
        current_period_end, cancel_at_period_end, created_by, updated_by
    )
    values (
        p_org_id, v_subscription_id, p_provider, p_plan, p_status,
        p_current_period_end, coalesce(p_cancel_at_period_end, false), v_actor, v_actor
    )
    on conflict (provider_subscription_id) do update
    set plan = excluded.plan,
        status = excluded.status,
        current_period_end = excluded.current_period_end,
        cancel_at_period_end = excluded.cancel_at_period_end,
        is_deleted = false,
        deleted_at = null,
        deleted_by = null,
        updated_by = v_actor
    -- Only the same organization's subscription with the same provider is updated.
    where bs.organization_id = excluded.organization_id
      and bs.provider = excluded.provider
    returning bs.id into v_id;

    if v_id is null then
        raise exception 'This subscription belongs to another organization or provider'
            using errcode = '23505';
    end if;

    perform platform.log_platform_action(
        'update', 'platform.billing_subscriptions', v_id, 'Recorded a subscription update',
        jsonb_build_object(
            'provider', p_provider,
            'plan', p_plan,
            'status', p_status,
            'current_period_end', p_current_period_end,
            'cancel_at_period_end', coalesce(p_cancel_at_period_end, false)
        )
    );
end;
$$;

revoke all on function platform.record_subscription_update(uuid, text, text, text, timestamptz, boolean, text)
    from public, anon, authenticated;
grant execute on function platform.record_subscription_update(uuid, text, text, text, timestamptz, boolean, text)
    to app_admin;
