"""Drives a running `gatehouse serve` with the official `openai` Python package.

Environment: GATEHOUSE_BASE (https://host:port/v1), GATEHOUSE_KEY (an API key allowed the small and
embedding models but not the large one), GATEHOUSE_CA (the server certificate to trust),
GATEHOUSE_CHAT_MODEL, GATEHOUSE_EMBEDDING_MODEL and GATEHOUSE_FORBIDDEN_MODEL (optional: skip
the embeddings or forbidden-model checks when empty, for model servers without them).
"""

import os
import ssl
import unittest

import httpx2
import openai

BASE = os.environ["GATEHOUSE_BASE"]
KEY = os.environ["GATEHOUSE_KEY"]
CA = os.environ["GATEHOUSE_CA"]
CHAT = os.environ.get("GATEHOUSE_CHAT_MODEL", "fixture-small")
EMBEDDING = os.environ.get("GATEHOUSE_EMBEDDING_MODEL", "fixture-embedding")
FORBIDDEN = os.environ.get("GATEHOUSE_FORBIDDEN_MODEL", "fixture-large")


def client(key=KEY):
    return openai.OpenAI(base_url=BASE, api_key=key, max_retries=0, http_client=httpx2.Client(verify=ssl.create_default_context(cafile=CA)))


class OpenAIClientTests(unittest.TestCase):
    def client(self, key=KEY):
        made = client(key)
        self.addCleanup(made.close)
        return made

    def test_chat(self):
        answer = self.client().chat.completions.create(
            model=CHAT, messages=[{"role": "user", "content": "Say hello in five words."}], max_tokens=16
        )
        self.assertEqual(answer.choices[0].message.role, "assistant")
        self.assertTrue(answer.choices[0].message.content.strip())
        self.assertGreater(answer.usage.total_tokens, 0)

    def test_streaming_chat(self):
        stream = self.client().chat.completions.create(
            model=CHAT,
            messages=[{"role": "user", "content": "Count to five."}],
            max_tokens=16,
            stream=True,
        )
        pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
        self.assertGreater(len(pieces), 2, "a stream arrives in several events")
        self.assertTrue("".join(pieces).strip())

    def test_stream_usage_only_when_asked(self):
        def chunks(**options):
            return list(self.client().chat.completions.create(
                model=CHAT, messages=[{"role": "user", "content": "Count to five."}], max_tokens=16, stream=True,
                **options,
            ))
        # The gateway asks the upstream for usage (to account for the tokens) but does not pass the
        # usage-only event to a caller that did not ask for it: every chunk has a choice.
        self.assertTrue(all(chunk.choices for chunk in chunks()))
        if CHAT.startswith("fixture"):  # llama.cpp's server ignores include_usage
            asked = chunks(stream_options={"include_usage": True})
            self.assertGreater(asked[-1].usage.completion_tokens, 0)

    def test_embeddings(self):
        if not EMBEDDING:
            self.skipTest("no embedding model")
        result = self.client().embeddings.create(model=EMBEDDING, input=["zero trust", "front door"])
        self.assertEqual(len(result.data), 2)
        self.assertGreater(len(result.data[0].embedding), 0)

    def test_models_lists_only_allowed(self):
        names = [model.id for model in self.client().models.list()]
        self.assertIn(CHAT, names)
        if FORBIDDEN:
            self.assertNotIn(FORBIDDEN, names)

    def test_rejected_key(self):
        with self.assertRaises(openai.AuthenticationError) as caught:
            self.client("ghk_AAAAAAAA_" + "A" * 43).models.list()
        self.assertEqual(caught.exception.status_code, 401)
        self.assertTrue(caught.exception.response.headers.get("x-request-id"))

    def test_forbidden_model(self):
        if not FORBIDDEN:
            self.skipTest("no forbidden model configured")
        with self.assertRaises(openai.PermissionDeniedError) as caught:
            self.client().chat.completions.create(model=FORBIDDEN, messages=[{"role": "user", "content": "hi"}])
        self.assertEqual(caught.exception.status_code, 403)
        self.assertEqual(caught.exception.body["code"], "model_access_denied")

    def test_routing_field_refused(self):
        with self.assertRaises(openai.BadRequestError) as caught:
            self.client().chat.completions.create(
                model=CHAT,
                messages=[{"role": "user", "content": "hi"}],
                extra_body={"api_base": "http://169.254.169.254/latest"},
            )
        self.assertEqual(caught.exception.body["code"], "routing_field_refused")


if __name__ == "__main__":
    unittest.main(verbosity=2)
