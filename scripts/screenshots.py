#!/usr/bin/env python3
"""Screenshots of mcpscope's main screens, for the README and for looking at UI work.

Starts mcpscope (target/debug unless MCPSCOPE_BIN says otherwise) on server-everything from
tests/peers, drives Debian's chromium through chromedriver (WebDriver over plain HTTP, no
dependencies), and writes docs/screenshots/<screen>-<theme>-<width>x<height>.png: the tool
screen after a call, the resource screen with its preview, the exchange view, and an MCP App under
its tool's result (the ext-apps vanilla example), a tapped session (the Python SDK client
through `mcpscope tap`), and one server's own responder settings beside a timeline whose older
events come a page at a time, at 1400x900 and 1000x700, in light and dark.
Also prints each page's scroll width, so horizontal scrolling shows up here too.

    scripts/screenshots.py [OUT_DIR]
"""
import base64, json, os, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "screenshots")
BIN = os.environ.get("MCPSCOPE_BIN", os.path.join(ROOT, "target", "debug", "mcpscope"))
EVERYTHING = os.path.join(ROOT, "tests/peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js")
APP_SERVER = os.path.join(ROOT, "tests/peers/node_modules/@modelcontextprotocol/server-basic-vanillajs/dist/index.js")
TOKEN = "screenshots"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, what, deadline=20):
    until = time.time() + deadline
    while time.time() < until:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{what} did not listen on {port}")


class Driver:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, method=method, data=data, headers={"Content-Type": "application/json"})
        return json.load(urllib.request.urlopen(req))["value"]

    def session(self, w, h):
        caps = {"browserName": "chrome", "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", f"--window-size={w},{h}", "--hide-scrollbars=false"]}}
        self.sid = self.call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]
        # The window includes browser chrome; the page gets exactly w x h.
        self.call("POST", f"/session/{self.sid}/goog/cdp/execute", {"cmd": "Emulation.setDeviceMetricsOverride",
                  "params": {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": False}})

    def js(self, script, *args):
        return self.call("POST", f"/session/{self.sid}/execute/sync", {"script": script, "args": list(args)})

    def until(self, script, what, deadline=15):
        end = time.time() + deadline
        while time.time() < end:
            if self.js(script):
                return
            time.sleep(0.1)
        raise SystemExit(f"timed out waiting for {what}")

    def shot(self, path):
        png = self.call("GET", f"/session/{self.sid}/screenshot")
        with open(path, "wb") as f:
            f.write(base64.b64decode(png))

    def quit(self):
        self.call("DELETE", f"/session/{self.sid}")


def main():
    os.makedirs(OUT, exist_ok=True)
    port, dport = free_port(), free_port()
    catalog = os.path.join(tempfile.mkdtemp(prefix="mcpscope-shots-"), "catalog.json")
    app = subprocess.Popen([BIN, "--port", str(port), "--token", TOKEN, "--no-open", "--catalog", catalog,
                            "--", "node", EVERYTHING, "stdio"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    driver = subprocess.Popen(["/usr/bin/chromedriver", f"--port={dport}", "--allowed-ips=127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, "mcpscope")
        wait_port(dport, "chromedriver")
        # A second server whose tool has an MCP App view.
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/sessions", method="POST",
                                     data=json.dumps({"command": "node", "args": [APP_SERVER, "--stdio"]}).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        app_session = json.load(urllib.request.urlopen(req))["id"]
        # A real client (the Python SDK) running server-everything through `mcpscope tap`.
        python = os.path.join(ROOT, "tests/peers/.venv/bin/python")
        subprocess.run([python, os.path.join(ROOT, "tests/clients/sdk_client.py"), "stdio", BIN, "tap",
                        "--to", f"http://127.0.0.1:{port}", "--name", "everything, as Claude runs it", "--",
                        "node", EVERYTHING, "stdio"], env=dict(os.environ, MCPSCOPE_TOKEN=TOKEN),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/sessions", headers={"Authorization": f"Bearer {TOKEN}"})
        tapped = [s["id"] for s in json.load(urllib.request.urlopen(req)) if s.get("tapped")][0]
        # More history than a page replays: the timeline fetches the rest as it is scrolled up.
        for i in range(700):
            req = urllib.request.Request(f"http://127.0.0.1:{port}/api/sessions/s1/request", method="POST",
                                         data=json.dumps({"method": "tools/call", "params": {"name": "echo", "arguments": {"message": f"call {i}"}}}).encode(),
                                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
            urllib.request.urlopen(req).read()
        d = Driver(dport)
        for w, h in [(1400, 900), (1000, 700)]:
            for theme in ["light", "dark"]:
                d.session(w, h)
                d.call("POST", f"/session/{d.sid}/url", {"url": f"http://127.0.0.1:{port}/?token={TOKEN}"})
                d.js("localStorage.setItem('mcpscope-theme', arguments[0]); localStorage.removeItem('mcpscope-dock');", theme)
                d.call("POST", f"/session/{d.sid}/url", {"url": f"http://127.0.0.1:{port}/"})
                d.js("location.hash = 's=s1'")  # the server-everything session, as the app's may be shown
                # The page may show the server selected before: its lists go when s1 is shown.
                d.until("return document.getElementById('server-id').textContent.endsWith('s1')", "server-everything")
                d.until("return document.querySelector(\"button.item[data-item='tool:get-sum']\") !== null", "the tool list")
                d.js("document.querySelector(\"button.item[data-item='tool:get-sum']\").click()")
                d.until("return document.querySelector('#tool-form input') !== null", "the tool form")
                d.js("""const i = [...document.querySelectorAll('#tool-form input')];
                        i.forEach((x, n) => { x.value = String(n + 2); x.dispatchEvent(new Event('input', {bubbles: true})); });
                        document.getElementById('call-tool').click();""")
                d.until("return !document.getElementById('result-box').hidden && document.getElementById('result').textContent.length > 0", "the result")
                time.sleep(0.5)  # the smooth scroll to the result
                d.shot(os.path.join(OUT, f"tool-{theme}-{w}x{h}.png"))
                sw = d.js("return [document.documentElement.scrollWidth, window.innerWidth]")
                print(f"tool {theme} {w}x{h}: scrollWidth {sw[0]} / innerWidth {sw[1]}")
                d.js("document.querySelector(\"button.item[data-item^='resource:']\").click()")
                d.until("return document.querySelector('#result .preview') !== null", "the resource preview")
                time.sleep(0.5)
                d.shot(os.path.join(OUT, f"resource-{theme}-{w}x{h}.png"))
                # The timeline: a tools/call request opened with its response beside it.
                d.js("""const s = document.getElementById('timeline-search'); s.value = 'tools/call';
                        s.dispatchEvent(new Event('input'));""")
                d.until("return document.querySelector('#timeline .event-line.dir-sent') !== null", "the request row")
                d.js("document.querySelector('#timeline .event-line.dir-sent').click()")
                d.until("return !document.getElementById('exchange').hidden", "the exchange view")
                d.shot(os.path.join(OUT, f"exchange-{theme}-{w}x{h}.png"))
                # An MCP App under its tool's result, the bridge in the timeline.
                d.call("POST", f"/session/{d.sid}/url", {"url": f"http://127.0.0.1:{port}/#s={app_session}&i=tool%3Aget-time"})
                d.until("return document.getElementById('tool-wire-name').textContent === 'get-time'", "the app's tool")
                d.js("document.getElementById('call-tool').click()")
                d.until("return document.querySelector('#app-box .app-frame iframe') !== null", "the app")
                d.until("return document.querySelector('#app-box .app-who').textContent.length > 0", "the app's handshake")
                d.js("document.getElementById('exchange-close').click()")
                d.js("const s = document.getElementById('timeline-search'); s.value = 'app'; s.dispatchEvent(new Event('input'));")
                time.sleep(1.5)  # the view's own layout and size change
                d.js("document.getElementById('app-box').scrollIntoView({block: 'start'})")
                time.sleep(0.3)
                d.shot(os.path.join(OUT, f"app-{theme}-{w}x{h}.png"))
                sw = d.js("return [document.documentElement.scrollWidth, window.innerWidth]")
                print(f"app {theme} {w}x{h}: scrollWidth {sw[0]} / innerWidth {sw[1]}")
                # A tapped session: the client's own call under its tool, its frames below.
                d.call("POST", f"/session/{d.sid}/url", {"url": f"http://127.0.0.1:{port}/#s={tapped}&i=tool%3Aecho"})
                d.until("return document.getElementById('result').textContent.includes('through the tap')", "the client's call")
                d.js("const s = document.getElementById('timeline-search'); s.value = ''; s.dispatchEvent(new Event('input'));")
                time.sleep(0.5)
                d.shot(os.path.join(OUT, f"tap-{theme}-{w}x{h}.png"))
                sw = d.js("return [document.documentElement.scrollWidth, window.innerWidth]")
                print(f"tap {theme} {w}x{h}: scrollWidth {sw[0]} / innerWidth {sw[1]}")
                # One server's own responder settings, and its timeline scrolled to the top.
                d.call("POST", f"/session/{d.sid}/url", {"url": f"http://127.0.0.1:{port}/?fresh=1#s=s1"})
                d.until("return document.getElementById('server-id').textContent.endsWith('s1')", "server-everything")
                d.until("return document.querySelector('#timeline .event-line') !== null", "the timeline")
                d.js("""const r = document.getElementById('responders'); r.open = true;
                        const s = document.getElementById('responders-scope'); s.value = 'session';
                        s.dispatchEvent(new Event('change', {bubbles: true}));
                        document.getElementById('timeline').scrollTop = 0;""")
                time.sleep(1.0)
                d.shot(os.path.join(OUT, f"history-{theme}-{w}x{h}.png"))
                sw = d.js("return [document.documentElement.scrollWidth, window.innerWidth]")
                print(f"history {theme} {w}x{h}: scrollWidth {sw[0]} / innerWidth {sw[1]}")
                d.quit()
    finally:
        app.terminate()
        driver.terminate()
        for p in (app, driver):
            p.wait()
        try:
            os.remove(catalog)
            os.rmdir(os.path.dirname(catalog))
        except OSError:
            pass


if __name__ == "__main__":
    main()
