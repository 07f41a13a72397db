//! A posted `multipart/form-data` form, read whole: every part or, when one cannot be read (a
//! body cut off, a part over the size limit, text that is not UTF-8), the reason, so that a
//! page answers 400 with why instead of acting on a form with fields missing.

use axum::body::Bytes;
use axum::extract::Multipart;

use super::Ctx;
use super::api::Reply;

/// UTF-8's byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One part of the form.
pub struct Part {
    /// The field's name.
    pub name: String,
    /// The file's name, without any folder, when the part is a file.
    pub file_name: Option<String>,
    /// Its bytes.
    pub bytes: Bytes,
}

impl Part {
    /// Its bytes as text. A part that is not UTF-8 is refused, never read with characters
    /// replaced: a file (a CSV saved by a spreadsheet in another encoding) by its name, with
    /// how to save it; another part by the field's name. A byte order mark that begins it (as
    /// a spreadsheet's "CSV UTF-8" writes) is left out.
    pub fn text(&self, ctx: &Ctx) -> Result<String, Box<Reply>> {
        let bytes = self.bytes.strip_prefix(BOM).unwrap_or(&self.bytes);
        String::from_utf8(bytes.to_vec()).map_err(|_| {
            Box::new(Reply::bad_request(&match &self.file_name {
                Some(file) if !file.is_empty() => {
                    ctx.tf("form.file_not_text", &[("file", file.as_str())])
                }
                _ => ctx.tf("form.not_text", &[("field", self.name.as_str())]),
            }))
        })
    }
}

/// Every part of the form, in the order sent, or why it could not be read.
pub async fn read(multipart: &mut Multipart) -> Result<Vec<Part>, Box<Reply>> {
    let mut parts = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(parts),
            Err(e) => return Err(Box::new(Reply::bad_request(&e.body_text()))),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field
            .file_name()
            .map(|f| f.rsplit(['/', '\\']).next().unwrap_or(f).to_owned());
        let bytes = field
            .bytes()
            .await
            .map_err(|e| Box::new(Reply::bad_request(&e.body_text())))?;
        parts.push(Part {
            name,
            file_name,
            bytes,
        });
    }
}
