//! template.yaml as the tests read it: the functions' environment (Globals
//! merged with each function's own, `!Ref` resolved), their event sources,
//! and the properties of the queues, bus and rule the template declares.
//! Tests that wire things "as deployed" read them here rather than repeat
//! them, so a change to the template is a change to what they run.

use serde_json::Value as Json;
use serde_norway::Value;
use std::path::{Path, PathBuf};

pub struct Template {
    doc: Value,
}

/// `!GetAtt Resource.Attribute` split into its two halves.
pub struct GetAtt {
    pub resource: String,
    pub attribute: String,
}

impl Template {
    pub fn path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")
    }

    pub fn load() -> Template {
        let text = std::fs::read_to_string(Self::path()).expect("template.yaml is readable");
        Template {
            doc: serde_norway::from_str(&text).expect("template.yaml is YAML"),
        }
    }

    /// A parameter's default, as text.
    pub fn parameter_default(&self, name: &str) -> Option<String> {
        scalar(&self.doc["Parameters"][name]["Default"])
    }

    /// The logical ids of the resources of `kind` (`AWS::SQS::Queue`, ...).
    pub fn resources_of(&self, kind: &str) -> Vec<String> {
        let Some(resources) = self.doc["Resources"].as_mapping() else {
            return Vec::new();
        };
        resources
            .iter()
            .filter(|(_, r)| r["Type"].as_str() == Some(kind))
            .filter_map(|(id, _)| id.as_str().map(str::to_string))
            .collect()
    }

    /// A resource's `Properties`.
    pub fn properties(&self, logical_id: &str) -> &Value {
        let p = &self.doc["Resources"][logical_id]["Properties"];
        assert!(!p.is_null(), "template.yaml has no resource {logical_id}");
        p
    }

    /// A property with the function's own value, else the Globals one.
    pub fn function_setting(&self, function: &str, key: &str) -> Option<u64> {
        let own = &self.properties(function)[key];
        let global = &self.doc["Globals"]["Function"][key];
        own.as_u64().or_else(|| global.as_u64())
    }

    /// The function's environment: Globals' variables, then the function's
    /// own. `resolve` gives the value of a `!Ref` to a resource (a table
    /// name, a queue URL); a `!Ref` to a parameter is its default.
    pub fn environment(
        &self,
        function: &str,
        resolve: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<(String, String)> {
        let global = &self.doc["Globals"]["Function"]["Environment"]["Variables"];
        let own = &self.properties(function)["Environment"]["Variables"];
        let mut vars: Vec<(String, String)> = Vec::new();
        for map in [global, own] {
            let Some(map) = map.as_mapping() else {
                continue;
            };
            for (k, v) in map {
                let k = k.as_str().expect("variable names are strings").to_string();
                let v = self.resolve(v, resolve).unwrap_or_else(|| {
                    panic!("{function}: {k} = {v:?} refers to something this test does not make")
                });
                vars.retain(|(name, _)| *name != k);
                vars.push((k, v));
            }
        }
        vars
    }

    /// A plain value, or a `!Ref`.
    fn resolve(&self, v: &Value, resource: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        if let Some(s) = scalar(v) {
            return Some(s);
        }
        let Value::Tagged(t) = v else {
            return None;
        };
        let name = t.value.as_str()?;
        match t.tag.to_string().trim_start_matches('!') {
            "Ref" => self.parameter_default(name).or_else(|| resource(name)),
            _ => None,
        }
    }

    /// The `Properties` of one of a function's `Events`.
    pub fn event_source(&self, function: &str, event: &str) -> &Value {
        let p = &self.properties(function)["Events"][event]["Properties"];
        assert!(!p.is_null(), "{function} has no event {event}");
        p
    }

    /// `v` as JSON (a rule's pattern, a schedule's input).
    pub fn json(v: &Value) -> Json {
        serde_json::to_value(v).expect("plain YAML converts to JSON")
    }
}

/// `!GetAtt X.Y` (or `!GetAtt [X, Y]`).
pub fn get_att(v: &Value) -> Option<GetAtt> {
    let Value::Tagged(t) = v else {
        return None;
    };
    if t.tag.to_string().trim_start_matches('!') != "GetAtt" {
        return None;
    }
    let (resource, attribute) = match &t.value {
        Value::String(s) => {
            let (r, a) = s.split_once('.')?;
            (r.to_string(), a.to_string())
        }
        Value::Sequence(parts) => (
            parts.first()?.as_str()?.to_string(),
            parts.get(1)?.as_str()?.to_string(),
        ),
        _ => return None,
    };
    Some(GetAtt {
        resource,
        attribute,
    })
}

/// `!Ref X`: X.
pub fn reference(v: &Value) -> Option<String> {
    let Value::Tagged(t) = v else {
        return None;
    };
    (t.tag.to_string().trim_start_matches('!') == "Ref")
        .then(|| t.value.as_str().map(str::to_string))
        .flatten()
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
