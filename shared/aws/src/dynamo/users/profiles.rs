//! User profiles: first contact, later contacts, language, blocked, and the
//! counts of users by last seen.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};
use pricehound_core::domain::user::{Contact, Lang, User, UserId, UserProfile};
use pricehound_core::store::{StoreError, parse_sortable_time, sortable_time};

use super::{
    A_ACTIVE, A_BLOCKED, A_CHOSEN_LANG, A_FIRST_NAME, A_FIRST_SEEN, A_LANGUAGE_CODE, A_LAST_NAME,
    A_LAST_SEEN, A_REFERRER, A_USER, A_USERNAME, ALERT_PREFIX, PROFILE_SK, USERS_GSI1PK,
    condition_failed, time_range, user_pk,
};
use crate::dynamo::attrs::{
    Item, boolean, corrupt, get_bool, get_n, get_opt_s, get_s, n, opt_string, s,
};
use crate::dynamo::{A_GSI1PK, A_GSI1SK, A_PK, A_SK, DynamoStore, Keys, Read, SortKeys, shard};

/// The index partition (`USERS#<shard>`) holding `user`'s profile: every
/// contact moves a profile's index key, and a million users' contacts in
/// one partition would be its hot spot (`shard.rs`).
pub(super) fn user_gsi1pk(user: UserId) -> String {
    shard::key_for(USERS_GSI1PK, &user.0.to_string())
}

/// A profile's place in its `USERS#<shard>` index partition: last seen, then
/// id, so "seen in a window" is one key range in each shard.
fn user_gsi1sk(last_seen: DateTime<Utc>, user: UserId) -> String {
    format!("{}#{user}", sortable_time(last_seen))
}

fn user_from_item(item: &Item) -> Result<User, StoreError> {
    let chosen_lang = get_opt_s(item, A_CHOSEN_LANG)?
        .map(|code| Lang::from_code(code).ok_or_else(|| corrupt(A_CHOSEN_LANG, code)))
        .transpose()?;
    Ok(User {
        profile: UserProfile {
            id: UserId(get_n(item, A_USER)?),
            first_name: get_s(item, A_FIRST_NAME)?.to_string(),
            last_name: opt_string(item, A_LAST_NAME)?,
            username: opt_string(item, A_USERNAME)?,
            language_code: opt_string(item, A_LANGUAGE_CODE)?,
        },
        chosen_lang,
        referrer: opt_string(item, A_REFERRER)?,
        first_seen: parse_sortable_time(get_s(item, A_FIRST_SEEN)?)?,
        last_seen: parse_sortable_time(get_s(item, A_LAST_SEEN)?)?,
        blocked: get_bool(item, A_BLOCKED)?,
    })
}

impl DynamoStore {
    /// Updates a known user's profile from a later contact and clears
    /// `blocked`. With `forward`, only if the contact is newer than last seen,
    /// and then last seen (and its index key) move to it; returns None when
    /// the condition fails (no such user, or not newer).
    async fn update_profile(
        &self,
        contact: &Contact,
        forward: bool,
    ) -> Result<Option<Item>, StoreError> {
        let p = &contact.profile;
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(user_pk(p.id)))
            .key(A_SK, s(PROFILE_SK))
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_names("#first_name", A_FIRST_NAME)
            .expression_attribute_names("#blocked", A_BLOCKED)
            .expression_attribute_values(":first_name", s(&p.first_name))
            .expression_attribute_values(":false", boolean(false))
            .return_values(ReturnValue::AllNew);
        let mut sets = vec![
            "#first_name = :first_name".to_string(),
            "#blocked = :false".into(),
        ];
        let mut removes = Vec::new();
        for (name, value) in [
            (A_LAST_NAME, &p.last_name),
            (A_USERNAME, &p.username),
            (A_LANGUAGE_CODE, &p.language_code),
        ] {
            update = update.expression_attribute_names(format!("#{name}"), name);
            match value {
                Some(v) => {
                    sets.push(format!("#{name} = :{name}"));
                    update = update.expression_attribute_values(format!(":{name}"), s(v));
                }
                None => removes.push(format!("#{name}")),
            }
        }
        if forward {
            // Both index keys: the partition too, so a profile written
            // before the index was sharded moves to its shard on the next
            // contact.
            sets.push("#last_seen = :at".into());
            sets.push("#gsi1pk = :gsi1pk".into());
            sets.push("#gsi1sk = :gsi1sk".into());
            update = update
                .condition_expression("attribute_exists(#pk) AND #last_seen < :at")
                .expression_attribute_names("#last_seen", A_LAST_SEEN)
                .expression_attribute_names("#gsi1pk", A_GSI1PK)
                .expression_attribute_names("#gsi1sk", A_GSI1SK)
                .expression_attribute_values(":at", s(sortable_time(contact.at)))
                .expression_attribute_values(":gsi1pk", s(user_gsi1pk(p.id)))
                .expression_attribute_values(":gsi1sk", s(user_gsi1sk(contact.at, p.id)));
        } else {
            update = update.condition_expression("attribute_exists(#pk)");
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        match update.update_expression(expression).send().await {
            Ok(out) => Ok(Some(out.attributes().cloned().unwrap_or_default())),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(self.err("UpdateItem (user)", e)),
        }
    }

    /// Sets or removes one attribute of a known user's profile; an unknown
    /// user is left unknown (no half record is created).
    async fn update_known_user(
        &self,
        id: UserId,
        name: &str,
        value: Option<AttributeValue>,
    ) -> Result<(), StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(user_pk(id)))
            .key(A_SK, s(PROFILE_SK))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_names("#attr", name);
        let update = match value {
            Some(v) => update
                .update_expression("SET #attr = :v")
                .expression_attribute_values(":v", v),
            None => update.update_expression("REMOVE #attr"),
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(self.err("UpdateItem (user)", e)),
        }
    }

    /// Users whose last seen lies in `[from, to]` (milliseconds), counted on
    /// every `USERS#<shard>` index partition and summed (each profile is in
    /// exactly one); without bounds, every user.
    pub(super) async fn count_users(
        &self,
        range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<u64, StoreError> {
        let sort = match range {
            None => SortKeys::All,
            // The id follows the '#' of the index key.
            Some((from, to)) => {
                let (lo, hi) = time_range(from, to);
                SortKeys::Between(lo, hi)
            }
        };
        let shards = shard::all_keys(USERS_GSI1PK)
            .map(|gsi1pk| self.partition(Keys::Gsi1, gsi1pk, sort.clone()))
            .collect();
        self.count_shards(shards).await
    }
}

pub(super) async fn touch_user(
    store: &DynamoStore,
    contact: &Contact,
) -> Result<(User, bool), StoreError> {
    let p = &contact.profile;
    let at = sortable_time(contact.at);
    let mut put = store
        .client
        .put_item()
        .table_name(&store.table)
        .item(A_PK, s(user_pk(p.id)))
        .item(A_SK, s(PROFILE_SK))
        .item(A_GSI1PK, s(user_gsi1pk(p.id)))
        .item(A_GSI1SK, s(user_gsi1sk(contact.at, p.id)))
        .item(A_USER, n(p.id.0))
        .item(A_FIRST_NAME, s(&p.first_name))
        .item(A_FIRST_SEEN, s(&at))
        .item(A_LAST_SEEN, s(&at))
        .item(A_BLOCKED, boolean(false))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", A_PK);
    for (name, value) in [
        (A_LAST_NAME, &p.last_name),
        (A_USERNAME, &p.username),
        (A_LANGUAGE_CODE, &p.language_code),
        (A_REFERRER, &contact.referrer),
    ] {
        if let Some(v) = value {
            put = put.item(name, s(v));
        }
    }
    match put.send().await {
        Ok(_) => {
            // Read back through the parser, so both paths return the
            // stored precision (milliseconds).
            let user = User {
                profile: p.clone(),
                chosen_lang: None,
                referrer: contact.referrer.clone(),
                first_seen: parse_sortable_time(&at)?,
                last_seen: parse_sortable_time(&at)?,
                blocked: false,
            };
            return Ok((user, true));
        }
        Err(e) if condition_failed(&e) => {}
        Err(e) => return Err(store.err("PutItem (user)", e)),
    }
    // A later contact. Usually newer than last seen; a late retry of an
    // older update still refreshes the profile but not last seen.
    let item = match store.update_profile(contact, true).await? {
        Some(item) => item,
        None => store.update_profile(contact, false).await?.ok_or_else(|| {
            StoreError::Backend(format!("user {} vanished while being updated", p.id))
        })?,
    };
    Ok((user_from_item(&item)?, false))
}

pub(super) async fn user(store: &DynamoStore, id: UserId) -> Result<Option<User>, StoreError> {
    store
        .get_record(user_pk(id), PROFILE_SK, Read::Consistent, "user")
        .await?
        .as_ref()
        .map(user_from_item)
        .transpose()
}

pub(super) async fn set_language(
    store: &DynamoStore,
    id: UserId,
    lang: Option<Lang>,
) -> Result<(), StoreError> {
    store
        .update_known_user(id, A_CHOSEN_LANG, lang.map(|l| s(l.code())))
        .await
}

pub(super) async fn mark_blocked(store: &DynamoStore, id: UserId) -> Result<u32, StoreError> {
    store
        .update_known_user(id, A_BLOCKED, Some(boolean(true)))
        .await?;
    let mut deactivated = 0;
    for row in store.user_records(id, ALERT_PREFIX).await? {
        if !get_bool(&row, A_ACTIVE)? {
            continue;
        }
        // Conditioned on still being active, so a racing call counts
        // each alert once; the index keys go with `active`.
        let result = store
            .client
            .update_item()
            .table_name(&store.table)
            .key(A_PK, s(get_s(&row, A_PK)?))
            .key(A_SK, s(get_s(&row, A_SK)?))
            .update_expression("SET #active = :false REMOVE #gsi1pk, #gsi1sk")
            .condition_expression("#active = :true")
            .expression_attribute_names("#active", A_ACTIVE)
            .expression_attribute_names("#gsi1pk", A_GSI1PK)
            .expression_attribute_names("#gsi1sk", A_GSI1SK)
            .expression_attribute_values(":false", boolean(false))
            .expression_attribute_values(":true", boolean(true))
            .send()
            .await;
        match result {
            Ok(_) => deactivated += 1,
            Err(e) if condition_failed(&e) => {}
            Err(e) => return Err(store.err("UpdateItem (alert)", e)),
        }
    }
    Ok(deactivated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn user_index_keys_sort_by_last_seen_and_bound_to_the_millisecond() {
        let t = |ms: i64| Utc.timestamp_millis_opt(1_714_557_600_000 + ms).unwrap();
        let key = |ms, id| user_gsi1sk(t(ms), UserId(id));
        assert!(key(0, 999) < key(1, 1));
        let (lo, hi) = time_range(t(0), t(0));
        assert!(lo < key(0, 1) && key(0, 999_999) < hi);
        assert!(key(-1, 999_999) < lo && hi < key(1, 1));
    }
}
