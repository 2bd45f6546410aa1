//! D1 behind the `Database` port: one session per request (reads from the nearest replica
//! that has the client's last write), rows as JSON objects, integers made integral again.

use crate::error::{Error, Result};
use crate::ports::{Database, Outcome, Row, SqlValue, Statement};
use wasm_bindgen::JsValue;
use worker::D1DatabaseSession;

/// A D1 session: reads from the nearest replica that has the client's last write.
pub struct D1(pub D1DatabaseSession);

pub fn d1_error(error: worker::Error) -> Error {
    Error::Database(error.to_string())
}

pub fn js_params(params: &[SqlValue]) -> Vec<JsValue> {
    params
        .iter()
        .map(|value| match value {
            SqlValue::Null => JsValue::NULL,
            // Exact below 2^53, which every stored integer is (times, sizes, counts).
            SqlValue::Integer(v) => JsValue::from_f64(*v as f64),
            SqlValue::Text(v) => JsValue::from_str(v),
        })
        .collect()
}

/// D1 hands back JavaScript numbers; integral ones become JSON integers so that serde reads
/// them into integer fields as it does SQLite's.
fn integral(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => (f as i64).into(),
            _ => serde_json::Value::Number(n),
        },
        serde_json::Value::Object(map) => {
            serde_json::Value::Object(map.into_iter().map(|(k, v)| (k, integral(v))).collect())
        }
        other => other,
    }
}

/// The rows a statement returned, numbers made integral where they are.
fn rows(result: &worker::D1Result) -> Result<Vec<Row>> {
    let rows: Vec<serde_json::Value> = result.results().map_err(d1_error)?;
    rows.into_iter()
        .map(|row| match integral(row) {
            serde_json::Value::Object(map) => Ok(map),
            _ => Err(Error::Database(
                "D1 returned a row that is not an object".into(),
            )),
        })
        .collect()
}

fn changes(result: &worker::D1Result) -> Result<u64> {
    Ok(result
        .meta()
        .map_err(d1_error)?
        .and_then(|meta| meta.changes)
        .unwrap_or(0) as u64)
}

impl Database for D1 {
    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>> {
        let statement = self
            .0
            .prepare(sql)
            .bind(&js_params(params))
            .map_err(d1_error)?;
        rows(&statement.all().await.map_err(d1_error)?)
    }

    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        let statement = self
            .0
            .prepare(sql)
            .bind(&js_params(params))
            .map_err(d1_error)?;
        changes(&statement.run().await.map_err(d1_error)?)
    }

    async fn batch(&self, statements: Vec<Statement<'_>>) -> Result<Vec<Outcome>> {
        let prepared = statements
            .iter()
            .map(|(sql, params)| self.0.prepare(*sql).bind(&js_params(params)))
            .collect::<worker::Result<Vec<_>>>()
            .map_err(d1_error)?;
        let results = self.0.batch(prepared).await.map_err(d1_error)?;
        results
            .iter()
            .map(|result| {
                Ok(Outcome {
                    rows: rows(result)?,
                    changes: changes(result)?,
                })
            })
            .collect()
    }
}
