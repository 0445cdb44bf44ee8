//! Alerts: a user's rules, and the index of the active ones by target.

use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::try_join_all;
use pricehound_core::domain::user::{Alert, AlertId, AlertTarget, UserId};
use pricehound_core::store::rules::{self, alert_target_parts};
use pricehound_core::store::{StoreError, parse_sortable_time, sortable_time};

use super::{
    A_ACTIVE, A_ALERT_ID, A_ARMED, A_CREATED, A_LAST_FIRED, A_REF_AMOUNT, A_REF_CURRENCY, A_RULE,
    A_TARGET_ID, A_TARGET_KIND, A_USER, ALERT_PREFIX, condition_failed, user_pk,
};
use crate::dynamo::attrs::{Item, boolean, corrupt, get_bool, get_n, get_opt_s, get_s, n, s};
use crate::dynamo::{A_GSI1PK, A_GSI1SK, A_PK, A_SK, DynamoStore, Keys, SortKeys};

fn alert_sk(id: &AlertId) -> String {
    format!("{ALERT_PREFIX}{id}")
}

/// The index partition of the active alerts on `target`.
fn alert_gsi1pk(target: &AlertTarget) -> String {
    let (kind, id) = alert_target_parts(target);
    format!("ALERTS#{kind}#{id}")
}

/// The attributes of an alert record, index keys included while it is active.
fn alert_attributes(alert: &Alert) -> Vec<(&'static str, AttributeValue)> {
    let (kind, target_id) = alert_target_parts(&alert.target);
    let mut attrs = vec![
        (A_PK, s(user_pk(alert.user))),
        (A_SK, s(alert_sk(&alert.id))),
        (A_USER, n(alert.user.0)),
        (A_ALERT_ID, s(alert.id.as_str())),
        (A_TARGET_KIND, s(kind)),
        (A_TARGET_ID, s(target_id)),
        (A_RULE, s(rules::alert_rule_json(&alert.rule))),
        (A_CREATED, s(sortable_time(alert.created_at))),
        (A_ACTIVE, boolean(alert.active)),
        (A_ARMED, boolean(alert.armed)),
    ];
    if alert.active {
        attrs.push((A_GSI1PK, s(alert_gsi1pk(&alert.target))));
        attrs.push((A_GSI1SK, s(alert.id.as_str())));
    }
    if let (Some(amount), Some(currency)) = rules::money_parts(alert.reference_price.as_ref()) {
        attrs.push((A_REF_AMOUNT, s(amount)));
        attrs.push((A_REF_CURRENCY, s(currency)));
    }
    if let Some(t) = alert.last_fired_at {
        attrs.push((A_LAST_FIRED, s(sortable_time(t))));
    }
    attrs
}

fn alert_from_item(item: &Item) -> Result<Alert, StoreError> {
    Ok(Alert {
        id: AlertId::try_from(get_s(item, A_ALERT_ID)?.to_string())
            .map_err(|e| corrupt(A_ALERT_ID, e))?,
        user: UserId(get_n(item, A_USER)?),
        target: rules::alert_target_from_parts(
            get_s(item, A_TARGET_KIND)?,
            get_s(item, A_TARGET_ID)?,
        )?,
        rule: rules::alert_rule_from_json(get_s(item, A_RULE)?)?,
        created_at: parse_sortable_time(get_s(item, A_CREATED)?)?,
        active: get_bool(item, A_ACTIVE)?,
        armed: get_bool(item, A_ARMED)?,
        reference_price: rules::money_from_parts(
            get_opt_s(item, A_REF_AMOUNT)?,
            get_opt_s(item, A_REF_CURRENCY)?,
        )?,
        last_fired_at: get_opt_s(item, A_LAST_FIRED)?
            .map(parse_sortable_time)
            .transpose()?,
    })
}

impl DynamoStore {
    /// The active alerts on one target, by alert id (then user).
    async fn active_alerts_on(&self, target: &AlertTarget) -> Result<Vec<Alert>, StoreError> {
        let base = self.partition(Keys::Gsi1, alert_gsi1pk(target), SortKeys::All);
        let rows = self.query_upto(base, None, usize::MAX).await?;
        let mut alerts = rows
            .iter()
            .map(alert_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        // Only active alerts carry the index keys; this is a guard.
        alerts.retain(|a| a.active);
        // Equal index keys (one id at two users) have no defined order.
        alerts.sort_by(|a, b| (&a.id, a.user).cmp(&(&b.id, b.user)));
        Ok(alerts)
    }
}

/// `update_alert` on DynamoDB: the whole record replaced by `after`, on the
/// condition that the stored one still has `before`'s state.
pub(super) async fn update_alert(
    store: &DynamoStore,
    before: &Alert,
    after: &Alert,
) -> Result<bool, StoreError> {
    if (&before.user, &before.id) != (&after.user, &after.id) {
        return Ok(false);
    }
    let mut put = store.client.put_item().table_name(&store.table);
    for (name, value) in alert_attributes(after) {
        put = put.item(name, value);
    }
    let mut conditions = vec![
        "attribute_exists(#pk)".to_string(),
        "#rule = :b_rule".into(),
        "#active = :b_active".into(),
        "#armed = :b_armed".into(),
    ];
    put = put
        .expression_attribute_names("#pk", A_PK)
        .expression_attribute_names("#rule", A_RULE)
        .expression_attribute_names("#active", A_ACTIVE)
        .expression_attribute_names("#armed", A_ARMED)
        .expression_attribute_names("#fired", A_LAST_FIRED)
        .expression_attribute_names("#ref", A_REF_AMOUNT)
        .expression_attribute_names("#refc", A_REF_CURRENCY)
        .expression_attribute_values(":b_rule", s(rules::alert_rule_json(&before.rule)))
        .expression_attribute_values(":b_active", boolean(before.active))
        .expression_attribute_values(":b_armed", boolean(before.armed));
    match before.last_fired_at {
        Some(t) => {
            conditions.push("#fired = :b_fired".into());
            put = put.expression_attribute_values(":b_fired", s(sortable_time(t)));
        }
        None => conditions.push("attribute_not_exists(#fired)".into()),
    }
    match rules::money_parts(before.reference_price.as_ref()) {
        (Some(amount), Some(currency)) => {
            conditions.push("#ref = :b_ref AND #refc = :b_refc".into());
            put = put
                .expression_attribute_values(":b_ref", s(amount))
                .expression_attribute_values(":b_refc", s(currency));
        }
        _ => conditions.push("attribute_not_exists(#ref) AND attribute_not_exists(#refc)".into()),
    }
    match put
        .condition_expression(conditions.join(" AND "))
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if condition_failed(&e) => Ok(false),
        Err(e) => Err(store.err("PutItem (alert update)", e)),
    }
}

pub(super) async fn put_alert(store: &DynamoStore, alert: &Alert) -> Result<(), StoreError> {
    // A whole-record replace: an inactive alert's put leaves no index keys.
    let mut put = store.client.put_item().table_name(&store.table);
    for (name, value) in alert_attributes(alert) {
        put = put.item(name, value);
    }
    put.send()
        .await
        .map_err(|e| store.err("PutItem (alert)", e))?;
    Ok(())
}

pub(super) async fn alerts(store: &DynamoStore, user: UserId) -> Result<Vec<Alert>, StoreError> {
    let rows = store.user_records(user, ALERT_PREFIX).await?;
    let mut alerts = rows
        .iter()
        .map(alert_from_item)
        .collect::<Result<Vec<_>, _>>()?;
    alerts.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(alerts)
}

pub(super) async fn active_alerts_for(
    store: &DynamoStore,
    targets: &[AlertTarget],
) -> Result<Vec<Alert>, StoreError> {
    // One query per target (each once), all at once.
    let unique = rules::unique_targets(targets);
    let per_target = try_join_all(unique.into_iter().map(|t| store.active_alerts_on(t))).await?;
    Ok(per_target.into_iter().flatten().collect())
}

pub(super) async fn delete_alert(
    store: &DynamoStore,
    user: UserId,
    id: &AlertId,
) -> Result<bool, StoreError> {
    // The key holds the user: another user's alert id finds nothing.
    store.delete_record(user_pk(user), alert_sk(id)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use pricehound_core::domain::{ItemId, SeriesId};

    #[test]
    fn alert_index_partitions_name_the_target_kind() {
        let item = AlertTarget::Item(ItemId::new("a:b").unwrap());
        let series = AlertTarget::Series(SeriesId::new("a").unwrap());
        assert_eq!(alert_gsi1pk(&item), "ALERTS#item#a:b");
        assert_eq!(alert_gsi1pk(&series), "ALERTS#series#a");
    }
}
