// Reads an MJPEG stream (multipart/x-mixed-replace) frame by frame, so that the console knows
// when each picture arrives: an <img> pointed at the stream fires "load" for the first frame
// only, and a picture that stops changing would look live for ever.

const CRLF2 = [13, 10, 13, 10]

function indexOf (buf, pattern, from) {
    outer: for (let i = Math.max(0, from); i <= buf.length - pattern.length; i++) {
        for (let j = 0; j < pattern.length; j++) if (buf[i + j] !== pattern[j]) continue outer
        return i
    }
    return -1
}

const ascii = (s) => Array.from(s, (c) => c.charCodeAt(0) & 0xff)
const text = (bytes) => String.fromCharCode.apply(null, Array.from(bytes))

/**
 * push(chunk) with the bytes as they come; onFrame(jpegBytes) for each whole part. A part's
 * length is its Content-Length, else up to the next boundary. Parts over maxBytes are dropped.
 */
export class MultipartReader {
    constructor (boundary, onFrame, maxBytes = 8 * 1024 * 1024) {
        this.delimiter = ascii('\r\n--' + String(boundary || '').replace(/^--/, ''))
        this.onFrame = onFrame
        this.maxBytes = maxBytes
        this.buf = new Uint8Array(0)
    }

    push (chunk) {
        const joined = new Uint8Array(this.buf.length + chunk.length)
        joined.set(this.buf)
        joined.set(chunk, this.buf.length)
        this.buf = joined
        for (;;) {
            const headEnd = indexOf(this.buf, CRLF2, 0)
            if (headEnd < 0) break
            const head = text(this.buf.subarray(0, headEnd))
            const bodyStart = headEnd + 4
            const m = /content-length:\s*(\d+)/i.exec(head)
            let bodyEnd
            if (m) {
                bodyEnd = bodyStart + Number(m[1])
                if (bodyEnd > this.buf.length) break
            } else {
                bodyEnd = indexOf(this.buf, this.delimiter, bodyStart)
                if (bodyEnd < 0) break
            }
            const body = this.buf.slice(bodyStart, bodyEnd)
            this.buf = this.buf.slice(bodyEnd)
            if (body.length && body.length <= this.maxBytes) this.onFrame(body)
        }
        if (this.buf.length > this.maxBytes) this.buf = new Uint8Array(0)
    }
}

/** The boundary of a multipart Content-Type header, or ''. */
export function boundaryOf (contentType) {
    const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(String(contentType || ''))
    return m ? (m[1] || m[2]) : ''
}
