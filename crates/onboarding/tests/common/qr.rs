//! QR test images made with the `qrcode` crate, rendered and encoded with `image`.

use image::{GrayImage, ImageFormat, Luma};
use qrcode::{Color, EcLevel, QrCode};

/// Draws `payload` as a QR code (level M, 6 px modules, 4-module quiet zone) at `(x0, y0)`.
pub fn draw(image: &mut GrayImage, payload: &str, x0: u32, y0: u32) {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).unwrap();
    let width = code.width() as u32;
    for y in 0..width {
        for x in 0..width {
            if code[(x as usize, y as usize)] == Color::Dark {
                for dy in 0..6 {
                    for dx in 0..6 {
                        image.put_pixel(x0 + (x + 4) * 6 + dx, y0 + (y + 4) * 6 + dy, Luma([0]));
                    }
                }
            }
        }
    }
}

/// A white canvas.
pub fn canvas(width: u32, height: u32) -> GrayImage {
    GrayImage::from_pixel(width, height, Luma([255]))
}

/// Encodes as PNG or JPEG.
pub fn encode(image: &GrayImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// One QR code with `payload`, as a PNG.
pub fn png(payload: &str) -> Vec<u8> {
    let mut image = canvas(600, 600);
    draw(&mut image, payload, 0, 0);
    encode(&image, ImageFormat::Png)
}
