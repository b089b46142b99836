/**
 * git's credential helper protocol (docs/design.md#git-and-curl, gitcredentials(7)): the request parser and
 * the answer formatter of src/integrations/git-credential.ts, rule by rule.
 */
import {
  type CredentialRequest,
  formatCredentialAnswer,
  MAX_LINE,
  parseCredentialRequest,
} from '../../src/integrations/git-credential.js'

const parse = (text: string | Buffer) => parseCredentialRequest(text)

describe('parseCredentialRequest: lines and their end', () => {
  test('key=value lines become the request', () => {
    expect(
      parse('protocol=https\nhost=git.example.com\npath=org/repo.git\nusername=alice\npassword=p\ncredential=c\n\n'),
    ).toEqual({
      protocol: 'https',
      host: 'git.example.com',
      path: 'org/repo.git',
      username: 'alice',
      password: 'p',
      credential: 'c',
      capabilities: [],
    })
  })

  test('a blank line ends the input: later lines are ignored, even ones that would not parse', () => {
    expect(
      parse('protocol=https\nhost=git.example.com\n\nhost=evil.example.com\nusername=mallory\nnot a line\n'),
    ).toEqual({
      protocol: 'https',
      host: 'git.example.com',
      capabilities: [],
    })
  })

  test('EOF ends the input, with or without a final newline', () => {
    const expected = { protocol: 'https', host: 'git.example.com', capabilities: [] }
    expect(parse('protocol=https\nhost=git.example.com\n')).toEqual(expected)
    expect(parse('protocol=https\nhost=git.example.com')).toEqual(expected)
  })

  test('CRLF line ends are accepted; a CRLF blank line ends the input too', () => {
    expect(parse('protocol=https\r\nhost=git.example.com\r\n\r\nhost=other\r\n')).toEqual({
      protocol: 'https',
      host: 'git.example.com',
      capabilities: [],
    })
  })

  test('a Buffer is read as UTF-8, the same as a string', () => {
    expect(parse(Buffer.from('protocol=https\nhost=git.example.com\n\n'))).toEqual(
      parse('protocol=https\nhost=git.example.com\n\n'),
    )
  })

  test('unknown keys are ignored (they are for other helpers or newer gits)', () => {
    expect(
      parse('protocol=https\nwwwauth[]=Bearer realm="x"\nstate[]=foo:bar\noauth_refresh_token=r\nfuture=1\nhost=h\n\n'),
    ).toEqual({
      protocol: 'https',
      host: 'h',
      capabilities: [],
    })
  })

  test('a value may hold "=" and may be empty; the last value of a key wins', () => {
    expect(parse('password=a=b==\nusername=\nhost=one\nhost=two\n')).toEqual({
      password: 'a=b==',
      username: '',
      host: 'two',
      capabilities: [],
    })
  })

  test('empty input, or input that starts with a blank line, is not a request', () => {
    expect(parse('')).toBeUndefined()
    expect(parse('\n')).toBeUndefined()
    expect(parse('\nprotocol=https\nhost=h\n')).toBeUndefined()
  })
})

describe('parseCredentialRequest: url=', () => {
  test('is expanded into protocol, host and path', () => {
    expect(parse('url=https://git.example.com/org/repo.git\n')).toEqual({
      protocol: 'https',
      host: 'git.example.com',
      path: 'org/repo.git',
      capabilities: [],
    })
  })

  test('keeps a non-default port in the host, drops the default one', () => {
    expect(parse('url=https://git.example.com:8443/org/repo.git\n')).toMatchObject({ host: 'git.example.com:8443' })
    expect(parse('url=https://git.example.com:443/x\n')).toMatchObject({ host: 'git.example.com' })
    expect(parse('url=http://127.0.0.1:3000/x\n')).toMatchObject({ protocol: 'http', host: '127.0.0.1:3000' })
  })

  test('gives the username (and password) in the URL, percent-decoded', () => {
    expect(parse('url=https://al%40ice:p%2Fw@git.example.com/r\n')).toEqual({
      protocol: 'https',
      host: 'git.example.com',
      username: 'al@ice',
      password: 'p/w',
      path: 'r',
      capabilities: [],
    })
  })

  test('a URL without a path gives no path', () => {
    expect(parse('url=https://git.example.com\n')).toEqual({
      protocol: 'https',
      host: 'git.example.com',
      capabilities: [],
    })
  })

  test('later keys override what url= gave, as git does', () => {
    expect(parse('url=https://git.example.com/a\nhost=other.example.com\n')).toMatchObject({
      host: 'other.example.com',
      path: 'a',
    })
  })

  test('a url= that is not a URL makes it not a request', () => {
    expect(parse('url=not a url\n')).toBeUndefined()
  })
})

describe('parseCredentialRequest: capability[]', () => {
  test('capability[]=authtype is collected', () => {
    expect(parse('capability[]=authtype\nprotocol=https\nhost=h\n')).toEqual({
      protocol: 'https',
      host: 'h',
      capabilities: ['authtype'],
    })
  })

  test('several capabilities are kept in order', () => {
    expect(parse('capability[]=authtype\ncapability[]=state\n')?.capabilities).toEqual(['authtype', 'state'])
  })

  test('an empty capability[]= resets the list', () => {
    expect(parse('capability[]=authtype\ncapability[]=\nhost=h\n')?.capabilities).toEqual([])
    expect(parse('capability[]=state\ncapability[]=\ncapability[]=authtype\n')?.capabilities).toEqual(['authtype'])
  })
})

describe('parseCredentialRequest: what is not a request', () => {
  test(`a line over ${MAX_LINE} characters (64 KiB)`, () => {
    expect(MAX_LINE).toBe(64 * 1024)
    const value = (n: number) => 'a'.repeat(n - 'path='.length)
    expect(parse(`protocol=https\npath=${value(MAX_LINE + 1)}\n`)).toBeUndefined()
    // Exactly 64 KiB is still a line git could send.
    expect(parse(`protocol=https\npath=${value(MAX_LINE)}\n`)?.path).toHaveLength(MAX_LINE - 'path='.length)
  })

  test('a NUL in the request', () => {
    expect(parse('protocol=https\nhost=git.exa\u0000mple.com\n')).toBeUndefined()
    expect(parse(Buffer.from([0x68, 0x6f, 0x73, 0x74, 0x3d, 0x68, 0x00, 0x0a]))).toBeUndefined()
  })

  test('binary (bytes that are not UTF-8)', () => {
    expect(parse(Buffer.from([0xff, 0xfe, 0x3d, 0x80, 0x0a]))).toBeUndefined()
    expect(
      parse(Buffer.concat([Buffer.from('protocol=https\nhost='), Buffer.from([0xc3, 0x28]), Buffer.from('\n')])),
    ).toBeUndefined()
  })

  test('a line without "=", or with an empty key', () => {
    expect(parse('protocol=https\nhost git.example.com\n')).toBeUndefined()
    expect(parse('get\n')).toBeUndefined()
    expect(parse('protocol=https\n=value\n')).toBeUndefined()
  })
})

describe('formatCredentialAnswer: exact bytes', () => {
  const request = (capabilities: string[] = []): CredentialRequest => ({
    protocol: 'https',
    host: 'git.example.com',
    capabilities,
  })
  // 2030-01-01T00:00:00.999Z: the expiry is whole epoch seconds, rounded down.
  const answer = { username: 'alice', token: 'eyJ.abc-_~+/=', expiresAt: 1_893_456_000_999 }

  test('username / password / password_expiry_utc', () => {
    expect(formatCredentialAnswer(request(), answer)).toBe(
      'username=alice\npassword=eyJ.abc-_~+/=\npassword_expiry_utc=1893456000\n',
    )
  })

  test('with capability[]=authtype: a Bearer credential instead of username/password', () => {
    expect(formatCredentialAnswer(request(['authtype']), answer)).toBe(
      'capability[]=authtype\nauthtype=Bearer\ncredential=eyJ.abc-_~+/=\nephemeral=true\npassword_expiry_utc=1893456000\n',
    )
  })

  test('other capabilities alone give the username/password form', () => {
    expect(formatCredentialAnswer(request(['state']), answer)).toBe(
      'username=alice\npassword=eyJ.abc-_~+/=\npassword_expiry_utc=1893456000\n',
    )
  })

  test('never oauth_refresh_token', () => {
    for (const caps of [[], ['authtype']])
      expect(formatCredentialAnswer(request(caps), answer)).not.toContain('oauth_refresh_token')
  })
})
