//! [`Sql`] on a PostgreSQL connection or transaction.

use bytes::BytesMut;
use opsml_query::Dialect;
use postgres::types::{IsNull, ToSql, Type};
use postgres::GenericClient;

use super::{column_error, Param, Sql, SqlRow};
use crate::error::{Result, StoreError};

type BoxedError = Box<dyn std::error::Error + Sync + Send>;

/// A PostgreSQL client or transaction of the database at `location` (no password in it).
pub(crate) struct PgSql<'a, C> {
    client: &'a mut C,
    location: &'a str,
}

impl<'a, C: GenericClient> PgSql<'a, C> {
    pub(crate) fn new(client: &'a mut C, location: &'a str) -> Self {
        Self { client, location }
    }

    fn error(&self, source: postgres::Error) -> StoreError {
        StoreError::Postgres {
            location: self.location.to_owned(),
            source,
        }
    }
}

impl Param<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Param::Null => "NULL",
            Param::Int(_) => "an integer",
            Param::Real(_) => "a number",
            Param::Text(_) => "text",
            Param::Blob(_) => "bytes",
            Param::Bool(_) => "a boolean",
        }
    }
}

/// Each value is bound as the type the server inferred for its placeholder: an integer
/// compared with a DOUBLE PRECISION expression goes as a double, a number read as text as
/// its text, and so on.
impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxedError> {
        match (*self, ty) {
            (Param::Null, _) => Ok(IsNull::Yes),
            (Param::Int(n), &Type::INT8) => n.to_sql(ty, out),
            (Param::Int(n), &Type::INT4) => i32::try_from(n)?.to_sql(ty, out),
            (Param::Int(n), &Type::INT2) => i16::try_from(n)?.to_sql(ty, out),
            (Param::Int(n), &Type::FLOAT8) => (n as f64).to_sql(ty, out),
            (Param::Int(n), &Type::FLOAT4) => (n as f32).to_sql(ty, out),
            (Param::Int(n), _) if <&str>::accepts(ty) => n.to_string().to_sql(ty, out),
            (Param::Real(x), &Type::FLOAT8) => x.to_sql(ty, out),
            (Param::Real(x), &Type::FLOAT4) => (x as f32).to_sql(ty, out),
            (Param::Real(x), _) if <&str>::accepts(ty) => x.to_string().to_sql(ty, out),
            (Param::Text(text), _) if <&str>::accepts(ty) => text.to_sql(ty, out),
            (Param::Blob(bytes), &Type::BYTEA) => bytes.to_sql(ty, out),
            (Param::Bool(b), &Type::BOOL) => b.to_sql(ty, out),
            (Param::Bool(b), _) if <&str>::accepts(ty) => b.to_string().to_sql(ty, out),
            (value, _) => {
                Err(format!("cannot bind {} where {ty} is expected", value.kind()).into())
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

struct Row<'r>(&'r postgres::Row);

impl Row<'_> {
    fn get<'r, T: postgres::types::FromSql<'r>>(
        &'r self,
        column: usize,
        wanted: &str,
    ) -> Result<Option<T>> {
        self.0
            .try_get::<_, Option<T>>(column)
            .map_err(|e| column_error(column, wanted, e))
    }

    fn column_type(&self, column: usize) -> Result<&Type> {
        self.0
            .columns()
            .get(column)
            .map(postgres::Column::type_)
            .ok_or_else(|| column_error(column, "there", "the row has fewer columns"))
    }
}

impl SqlRow for Row<'_> {
    fn int(&self, column: usize) -> Result<Option<i64>> {
        match *self.column_type(column)? {
            Type::INT4 => Ok(self.get::<i32>(column, "an integer")?.map(i64::from)),
            Type::INT2 => Ok(self.get::<i16>(column, "an integer")?.map(i64::from)),
            _ => self.get(column, "an integer"),
        }
    }

    fn real(&self, column: usize) -> Result<Option<f64>> {
        match *self.column_type(column)? {
            Type::FLOAT4 => Ok(self.get::<f32>(column, "a number")?.map(f64::from)),
            Type::INT8 | Type::INT4 | Type::INT2 => Ok(self.int(column)?.map(|n| n as f64)),
            _ => self.get(column, "a number"),
        }
    }

    fn text(&self, column: usize) -> Result<Option<&str>> {
        self.get(column, "text")
    }

    fn blob(&self, column: usize) -> Result<Option<&[u8]>> {
        self.get(column, "bytes")
    }

    fn boolean(&self, column: usize) -> Result<Option<bool>> {
        match *self.column_type(column)? {
            Type::BOOL => self.get(column, "a boolean"),
            _ => Ok(self.int(column)?.map(|n| n != 0)),
        }
    }
}

fn bound<'p>(params: &'p [Param<'_>]) -> Vec<&'p (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl<C: GenericClient> Sql for PgSql<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let result = self.client.execute(sql, &bound(params));
        result.map_err(|e| self.error(e))
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<()>,
    ) -> Result<()> {
        let result = self.client.query(sql, &bound(params));
        for row in &result.map_err(|e| self.error(e))? {
            each(&Row(row))?;
        }
        Ok(())
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        let result = self.client.batch_execute(sql);
        result.map_err(|e| self.error(e))
    }
}
