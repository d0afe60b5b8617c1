//! QR codes in images (PNG, JPEG): the payload is a deployment link (section 3).

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

use crate::error::{Invalid, OnboardingError, Result};
use crate::link::DeploymentLink;

/// The largest image file read.
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;
/// The largest width or height decoded (a phone photo is about 4000×3000).
const MAX_DIMENSION: u32 = 8192;

/// Finds the one QR code in a PNG or JPEG image and parses its payload as a deployment link.
pub fn decode_qr_image(bytes: &[u8]) -> Result<DeploymentLink> {
    let payload = read_qr_payload(bytes)?;
    if !payload
        .get(..9)
        .is_some_and(|s| s.eq_ignore_ascii_case("sidetone:"))
    {
        return Err(OnboardingError::invalid(
            Invalid::QrNotALink,
            "the QR code does not hold a Sidetone link",
        ));
    }
    DeploymentLink::parse(&payload)
}

/// The text of the one QR code in the image.
fn read_qr_payload(bytes: &[u8]) -> Result<String> {
    let unreadable = |why: String| OnboardingError::invalid(Invalid::ImageUnreadable, why);
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(unreadable("the image is larger than 20 MiB".into()));
    }
    let format = image::guess_format(bytes).map_err(|e| unreadable(e.to_string()))?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg) {
        return Err(unreadable("only PNG and JPEG images are read".into()));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| unreadable(e.to_string()))?
        .into_luma8();
    let (width, height) = (image.width() as usize, image.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        image.get_pixel(x as u32, y as u32).0[0]
    });
    let mut payloads: Vec<String> = Vec::new();
    for grid in prepared.detect_grids() {
        if let Ok((_, text)) = grid.decode()
            && !payloads.contains(&text)
        {
            payloads.push(text);
        }
    }
    match payloads.len() {
        0 => Err(OnboardingError::invalid(
            Invalid::QrNotFound,
            "no readable QR code in the image",
        )),
        1 => Ok(payloads.remove(0)),
        _ => Err(OnboardingError::invalid(
            Invalid::QrMultiple,
            "several QR codes in the image; crop it to one",
        )),
    }
}
